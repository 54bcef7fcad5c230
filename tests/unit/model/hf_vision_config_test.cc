// VisionConfig of Hugging Face / mlx-vlm VLM directories (model/vision/hf_vision_config.h):
// each family's keys, transformers' defaults where a key is absent, and errors naming the key.
#include "model/vision/hf_vision_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sluice {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Result<VisionConfig> read(const json& config, const json& processor = json::object()) {
  return hf_vision_config(config, processor, "DIR");
}

void expect_hf_config_error(const Result<VisionConfig>& c, const std::string& part) {
  ASSERT_FALSE(c.ok()) << "accepted; wanted an error naming " << part;
  EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
  EXPECT_EQ(c.error().rfind("[vision] DIR: ", 0), 0u) << c.error();
}

// Gemma 3 4B's config.json (vision_config as published: no layer_norm_eps, no
// mm_tokens_per_image at the top) with a preprocessor of its own mean and std.
TEST(HfVisionConfigTest, Gemma3FourBWithDefaults) {
  const json config = {{"model_type", "gemma3"},
                       {"text_config", {{"hidden_size", 2560}}},
                       {"vision_config",
                        {{"hidden_size", 1152},
                         {"image_size", 896},
                         {"intermediate_size", 4304},
                         {"model_type", "siglip_vision_model"},
                         {"num_attention_heads", 16},
                         {"num_hidden_layers", 27},
                         {"patch_size", 14},
                         {"vision_use_head", false}}}};
  auto c =
      read(config, {{"image_std", {0.5, 0.25, 0.5}}, {"size", {{"height", 896}, {"width", 896}}}});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kGemma3);
  EXPECT_EQ(c->hidden_size, 1152);
  EXPECT_EQ(c->intermediate_size, 4304);
  EXPECT_EQ(c->num_layers, 27);
  EXPECT_EQ(c->head_dim, 72);
  EXPECT_EQ(c->projection_dim, 2560);
  EXPECT_FLOAT_EQ(c->layer_norm_eps, 1e-6f);  // SiglipVisionConfig's
  EXPECT_EQ(c->pool_kernel, 4);               // 64 patches per side, 256 tokens: 16 per side
  EXPECT_EQ(c->tokens_per_image(), 256);
  EXPECT_EQ(c->image_mean, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));  // Gemma3ImageProcessor's
  EXPECT_EQ(c->image_std, (std::array<float, 3>{0.5f, 0.25f, 0.5f}));
  EXPECT_FALSE(c->dynamic_resolution());
}

TEST(HfVisionConfigTest, Gemma3SiglipDefaultsAndTheirErrors) {
  // SiglipVisionConfig() (224 px, patch 16: 14 patches per side) cannot pool to Gemma3Config's
  // default 256 tokens (16 per side): transformers' own defaults do not fit together.
  expect_hf_config_error(read({{"model_type", "gemma3"}, {"vision_config", json::object()}}),
                         "mm_tokens_per_image 256");
  auto c = read(
      {{"model_type", "gemma3"}, {"mm_tokens_per_image", 49}, {"vision_config", json::object()}});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->hidden_size, 768);
  EXPECT_EQ(c->intermediate_size, 3072);
  EXPECT_EQ(c->num_layers, 12);
  EXPECT_EQ(c->num_heads, 12);
  EXPECT_EQ(c->image_size, 224);
  EXPECT_EQ(c->patch_size, 16);
  EXPECT_EQ(c->projection_dim, 2304);  // Gemma3TextConfig's hidden_size
  EXPECT_EQ(c->pool_kernel, 2);
  // mlx-vlm also reads mm_tokens_per_image from text_config
  auto mlx = read({{"model_type", "gemma3"},
                   {"text_config", {{"mm_tokens_per_image", 49}}},
                   {"vision_config", json::object()}});
  ASSERT_TRUE(mlx.ok()) << mlx.error();
  EXPECT_EQ(mlx->pool_kernel, 2);
  expect_hf_config_error(read({{"model_type", "gemma3"},
                               {"mm_tokens_per_image", 49},
                               {"vision_config", {{"hidden_act", "quick_gelu"}}}}),
                         "vision_config.hidden_act 'quick_gelu'");
  expect_hf_config_error(read({{"model_type", "gemma3"},
                               {"mm_tokens_per_image", 49},
                               {"vision_config", json::object()}},
                              {{"size", {{"height", 448}, {"width", 448}}}}),
                         "image_processor.size.height 448");
}

TEST(HfVisionConfigTest, Qwen25VlDefaults) {
  // Qwen2.5-VL-7B's vision_config without the keys that equal Qwen2_5_VLVisionConfig's defaults
  auto c = read({{"model_type", "qwen2_5_vl"},
                 {"vision_config", {{"hidden_size", 1280}, {"out_hidden_size", 3584}}}});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen25VL);
  EXPECT_EQ(c->num_layers, 32);
  EXPECT_EQ(c->num_heads, 16);
  EXPECT_EQ(c->head_dim, 80);
  EXPECT_EQ(c->intermediate_size, 3420);
  EXPECT_EQ(c->patch_size, 14);
  EXPECT_EQ(c->merge_size, 2);
  EXPECT_EQ(c->window_size, 112);
  EXPECT_EQ(c->tokens_per_second, 4);     // transformers' default (releases write 2)
  EXPECT_EQ(c->full_attention_every, 8);  // fullatt_block_indexes [7, 15, 23, 31]
  EXPECT_TRUE(c->windowed_layer(6));
  EXPECT_FALSE(c->windowed_layer(7));
  EXPECT_EQ(c->projection_dim, 3584);
  // Qwen2VLImageProcessor's: size 56*56 .. 28*28*1280, CLIP's mean and std
  EXPECT_EQ(c->min_pixels, 3136);
  EXPECT_EQ(c->max_pixels, 1003520);
  EXPECT_FLOAT_EQ(c->image_mean[0], 0.48145466f);
  EXPECT_FLOAT_EQ(c->image_std[2], 0.27577711f);
  EXPECT_TRUE(c->dynamic_resolution());
  EXPECT_EQ(c->size_multiple(), 28);
}

TEST(HfVisionConfigTest, QwenImageProcessorSizes) {
  const json config = {{"model_type", "qwen2_5_vl"}, {"vision_config", json::object()}};
  // transformers v5's size dict; the older min_pixels / max_pixels keys win over it
  auto sized = read(config, {{"size", {{"shortest_edge", 6272}, {"longest_edge", 3211264}}}});
  ASSERT_TRUE(sized.ok()) << sized.error();
  EXPECT_EQ(sized->min_pixels, 6272);
  EXPECT_EQ(sized->max_pixels, 3211264);
  auto both = read(config, {{"size", {{"shortest_edge", 6272}, {"longest_edge", 3211264}}},
                            {"min_pixels", 3136},
                            {"max_pixels", 12845056}});
  ASSERT_TRUE(both.ok()) << both.error();
  EXPECT_EQ(both->min_pixels, 3136);
  EXPECT_EQ(both->max_pixels, 12845056);
  expect_hf_config_error(read(config, {{"patch_size", 16}}), "image_processor.patch_size 16");
  expect_hf_config_error(read(config, {{"min_pixels", 100000}, {"max_pixels", 1000}}),
                         "min_pixels");
  expect_hf_config_error(read(config, {{"image_std", {0.5, 0.0, 0.5}}}), "image_std holds a zero");
}

TEST(HfVisionConfigTest, Qwen25VlWindowPatternMustBeRegular) {
  auto every4 = read({{"model_type", "qwen2_5_vl"},
                      {"vision_config", {{"depth", 8}, {"fullatt_block_indexes", {3, 7}}}}});
  ASSERT_TRUE(every4.ok()) << every4.error();
  EXPECT_EQ(every4->full_attention_every, 4);
  for (const json& bad : {json{3, 6}, json{3}, json::array(), json{7, 15, 23}})
    expect_hf_config_error(
        read({{"model_type", "qwen2_5_vl"},
              {"vision_config", {{"depth", 8}, {"fullatt_block_indexes", bad}}}}),
        "vision_config.fullatt_block_indexes");
  expect_hf_config_error(
      read({{"model_type", "qwen2_5_vl"}, {"vision_config", {{"hidden_act", "gelu"}}}}),
      "vision_config.hidden_act 'gelu'");
}

// Video M-RoPE steps per second: the config's (vision_config.tokens_per_second), positive.
TEST(HfVisionConfigTest, Qwen25VlTokensPerSecond) {
  auto two = read({{"model_type", "qwen2_5_vl"}, {"vision_config", {{"tokens_per_second", 2}}}});
  ASSERT_TRUE(two.ok()) << two.error();
  EXPECT_EQ(two->tokens_per_second, 2);
  for (const json& bad : {json(0), json(-1), json("2")})
    expect_hf_config_error(
        read({{"model_type", "qwen2_5_vl"}, {"vision_config", {{"tokens_per_second", bad}}}}),
        "vision_config.tokens_per_second");
}

TEST(HfVisionConfigTest, Qwen3VlDefaults) {
  auto c = read({{"model_type", "qwen3_vl"}, {"vision_config", json::object()}},
                {{"image_mean", 0.5}, {"image_std", {0.5, 0.5, 0.5}}});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen3VL);
  EXPECT_EQ(c->num_layers, 27);
  EXPECT_EQ(c->hidden_size, 1152);
  EXPECT_EQ(c->intermediate_size, 4304);
  EXPECT_EQ(c->patch_size, 16);
  EXPECT_EQ(c->deepstack_layers, (std::vector<int64_t>{8, 16, 24}));
  EXPECT_EQ(c->position_grid, 48);  // num_position_embeddings 2304
  EXPECT_EQ(c->image_size, 768);
  EXPECT_EQ(c->projection_dim, 3584);
  EXPECT_EQ(c->token_width(), 4 * 3584);
  EXPECT_EQ(c->image_mean, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));  // one number: all three
  auto moe = read({{"model_type", "qwen3_vl_moe"}, {"vision_config", json::object()}});
  ASSERT_TRUE(moe.ok()) << moe.error();
  EXPECT_EQ(moe->projector, ProjectorType::kQwen3VL);
  expect_hf_config_error(read({{"model_type", "qwen3_vl"},
                               {"vision_config", {{"deepstack_visual_indexes", {16, 8}}}}}),
                         "vision_config.deepstack_visual_indexes [16,8]");
  expect_hf_config_error(
      read({{"model_type", "qwen3_vl"},
            {"vision_config", {{"depth", 4}, {"deepstack_visual_indexes", {1, 4}}}}}),
      "deepstack_visual_indexes");
  expect_hf_config_error(
      read({{"model_type", "qwen3_vl"}, {"vision_config", {{"num_position_embeddings", 2300}}}}),
      "vision_config.num_position_embeddings 2300");
}

TEST(HfVisionConfigTest, Qwen2VlDefaults) {
  // Qwen2VLVisionConfig: embed_dim is the ViT's width, hidden_size the merger's output
  auto c = read({{"model_type", "qwen2_vl"}, {"vision_config", {{"hidden_size", 1536}}}});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen2VL);
  EXPECT_EQ(c->hidden_size, 1280);
  EXPECT_EQ(c->intermediate_size, 5120);  // mlp_ratio 4
  EXPECT_EQ(c->projection_dim, 1536);
  EXPECT_EQ(c->num_layers, 32);
  EXPECT_EQ(c->full_attention_every, 0);
}

TEST(HfVisionConfigTest, ErrorsNameTheKey) {
  expect_hf_config_error(read({{"model_type", "llava"}, {"vision_config", json::object()}}),
                         "model_type 'llava'");
  expect_hf_config_error(read({{"vision_config", json::object()}}), "no model_type");
  expect_hf_config_error(read({{"model_type", "qwen3_vl"}}), "no vision_config");
  expect_hf_config_error(
      read({{"model_type", "qwen3_vl"}, {"vision_config", {{"hidden_size", "big"}}}}),
      "vision_config.hidden_size must be a positive integer");
  expect_hf_config_error(read({{"model_type", "qwen3_vl"}, {"vision_config", {{"num_heads", 7}}}}),
                         "not a multiple of vision_config.num_heads 7");
  expect_hf_config_error(
      read({{"model_type", "qwen3_vl"}, {"vision_config", {{"in_channels", 4}}}}),
      "vision_config.in_channels must be 3");
  expect_hf_config_error(
      read({{"model_type", "qwen3_vl"}, {"vision_config", {{"spatial_merge_size", 3}}}}),
      "spatial_merge_size");
}

class HfVisionDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("hf_vision_config_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const json& j) { std::ofstream(dir_ / name) << j.dump(); }
  fs::path dir_;
};

TEST_F(HfVisionDirTest, ProcessorConfigWinsOverPreprocessorConfig) {
  write("config.json", {{"model_type", "qwen3_vl"}, {"vision_config", json::object()}});
  auto none = read_hf_vision_config(dir_.string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no preprocessor_config.json"), std::string::npos) << none.error();
  write("preprocessor_config.json", {{"image_mean", {0.1, 0.2, 0.3}}});
  auto pre = read_hf_vision_config(dir_.string());
  ASSERT_TRUE(pre.ok()) << pre.error();
  EXPECT_FLOAT_EQ(pre->image_mean[1], 0.2f);
  // transformers reads a nested "image_processor" of processor_config.json first
  write("processor_config.json", {{"image_processor", {{"image_mean", {0.7, 0.8, 0.9}}}}});
  auto nested = read_hf_vision_config(dir_.string());
  ASSERT_TRUE(nested.ok()) << nested.error();
  EXPECT_FLOAT_EQ(nested->image_mean[1], 0.8f);
  EXPECT_TRUE(has_vision_config(dir_.string()));
  // mlx-vlm's text-only conversions write null; text models have no key at all
  write("config.json", {{"model_type", "qwen3_vl"}, {"vision_config", nullptr}});
  EXPECT_FALSE(has_vision_config(dir_.string()));
  write("config.json", {{"model_type", "qwen3"}});
  EXPECT_FALSE(has_vision_config(dir_.string()));
  EXPECT_FALSE(has_vision_config((dir_ / "config.json").string()));
}

}  // namespace
}  // namespace sluice
