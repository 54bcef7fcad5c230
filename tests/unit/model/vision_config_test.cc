// VisionConfig from an mmproj's clip.* metadata, and the loader's tensor layouts
// (model/vision/): the keys llama.cpp's converter writes, every missing or invalid one an error
// naming it.
#include "model/vision/vision_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "backend/weight.h"
#include "formats/gguf.h"
#include "model/vision/vision_weights.h"
#include "vision_test_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class VisionConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("vision_config_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Gemma 3 4B's keys as the converter writes them, then `edit` (which may overwrite or skip).
  struct Keys {
    std::string skip;                        // a key not to write
    std::function<void(GgufWriter&)> extra;  // more keys (a repeated key replaces the value)
  };
  Result<VisionConfig> read() { return read(Keys{"", nullptr}); }
  Result<VisionConfig> read(const Keys& k) {
    GgufWriter w;
    auto u32 = [&](const std::string& key, uint32_t v) {
      if (key != k.skip) w.add_uint32(key, v);
    };
    if (k.skip != "general.architecture") w.add_string("general.architecture", "clip");
    if (k.skip != "clip.projector_type") w.add_string("clip.projector_type", "gemma3");
    if (k.skip != "clip.has_vision_encoder") w.add_bool("clip.has_vision_encoder", true);
    u32("clip.vision.projection_dim", 2560);
    u32("clip.vision.image_size", 896);
    u32("clip.vision.patch_size", 14);
    u32("clip.vision.embedding_length", 1152);
    u32("clip.vision.feed_forward_length", 4304);
    u32("clip.vision.block_count", 27);
    u32("clip.vision.attention.head_count", 16);
    if (k.skip != "clip.vision.image_mean")
      w.add_float32_array("clip.vision.image_mean", {0.5f, 0.5f, 0.5f});
    if (k.skip != "clip.vision.image_std")
      w.add_float32_array("clip.vision.image_std", {0.5f, 0.25f, 0.5f});
    if (k.skip != "clip.vision.attention.layer_norm_epsilon")
      w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
    if (k.skip != "clip.use_gelu") w.add_bool("clip.use_gelu", true);
    if (k.extra) k.extra(w);
    const std::string path = (dir_ / "mmproj.gguf").string();
    EXPECT_TRUE(w.write(path));
    auto g = GgufFile::open(path);
    EXPECT_TRUE(g.ok()) << g.error();
    return read_vision_config(**g);
  }

  fs::path dir_;
};

using testing::expect_error;

TEST_F(VisionConfigTest, Gemma3FourB) {
  auto c = read();
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kGemma3);
  EXPECT_EQ(c->image_size, 896);
  EXPECT_EQ(c->patch_size, 14);
  EXPECT_EQ(c->hidden_size, 1152);
  EXPECT_EQ(c->intermediate_size, 4304);
  EXPECT_EQ(c->num_layers, 27);
  EXPECT_EQ(c->num_heads, 16);
  EXPECT_EQ(c->head_dim, 72);
  EXPECT_EQ(c->projection_dim, 2560);
  EXPECT_FLOAT_EQ(c->layer_norm_eps, 1e-6f);
  EXPECT_EQ(c->pool_kernel, 4);  // llama.cpp's default when the key is absent
  EXPECT_EQ(c->patches_per_side(), 64);
  EXPECT_EQ(c->num_patches(), 4096);
  EXPECT_EQ(c->tokens_per_image(), 256);
  EXPECT_FLOAT_EQ(c->image_std[1], 0.25f);
}

TEST_F(VisionConfigTest, ScaleFactorHeadDimAndMixedModalityKey) {
  auto c = read({"clip.projector_type", [](GgufWriter& w) {
                   w.add_string("clip.vision.projector_type", "gemma3");  // mixed-modality files
                   w.add_uint32("clip.vision.projector.scale_factor", 2);
                   w.add_uint32("clip.vision.attention.head_dim", 64);
                 }});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->pool_kernel, 2);
  EXPECT_EQ(c->tokens_per_image(), 1024);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->q_dim(), 1024);
}

TEST_F(VisionConfigTest, EveryRequiredKeyMissingIsNamed) {
  for (const char* key :
       {"clip.projector_type", "clip.vision.projection_dim", "clip.vision.image_size",
        "clip.vision.patch_size", "clip.vision.embedding_length", "clip.vision.feed_forward_length",
        "clip.vision.block_count", "clip.vision.attention.head_count", "clip.vision.image_mean",
        "clip.vision.image_std", "clip.vision.attention.layer_norm_epsilon", "clip.use_gelu"}) {
    SCOPED_TRACE(key);
    expect_error(read({key, nullptr}), key);
  }
}

TEST_F(VisionConfigTest, InvalidValuesAreErrors) {
  expect_error(read({"", [](GgufWriter& w) { w.add_string("clip.projector_type", "idefics3"); }}),
               "projector type 'idefics3' is not supported");
  expect_error(read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.block_count", 0); }}),
               "clip.vision.block_count' must be positive");
  expect_error(read({"", [](GgufWriter& w) { w.add_string("clip.vision.image_size", "big"); }}),
               "clip.vision.image_size' is not an integer");
  expect_error(
      read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.attention.head_count", 7); }}),
      "not a multiple of the head count 7");
  expect_error(
      read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.attention.head_count_kv", 4); }}),
      "grouped-query attention");
  expect_error(read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.image_size", 900); }}),
               "not a multiple of the patch size");
  expect_error(
      read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.projector.scale_factor", 3); }}),
      "cannot be pooled");
  expect_error(read({"", [](GgufWriter& w) { w.add_bool("clip.use_gelu", false); }}),
               "clip.use_gelu");
  expect_error(read({"", [](GgufWriter& w) { w.add_bool("clip.use_silu", true); }}),
               "clip.use_silu is set");
  expect_error(read({"",
                     [](GgufWriter& w) {
                       w.add_float32_array("clip.vision.image_mean", {0.5f, 0.5f});
                     }}),
               "array of 3 floats");
  expect_error(read({"",
                     [](GgufWriter& w) {
                       w.add_float32_array("clip.vision.image_std", {0.5f, 0.0f, 0.5f});
                     }}),
               "image_std holds a zero");
  expect_error(read({"",
                     [](GgufWriter& w) {
                       w.add_float32("clip.vision.attention.layer_norm_epsilon", 0.0f);
                     }}),
               "must be a positive number");
  expect_error(read({"", [](GgufWriter& w) { w.add_bool("clip.has_vision_encoder", false); }}),
               "no image encoder");
}

// A 1-layer tower of width 4 whose tensors hold their own flat indices: the loader's layouts.
class VisionWeightsTest : public VisionConfigTest {
 protected:
  static std::vector<uint8_t> iota_bytes(int64_t n) {
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
    std::vector<uint8_t> b(n * sizeof(float));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  // Writes the tower's tensors (ffn names swapped when legacy) with `edit` applied to the list.
  Result<VisionWeights> load(bool legacy, const std::string& drop = "") {
    c_.image_size = 4, c_.patch_size = 2, c_.hidden_size = 4, c_.intermediate_size = 6;
    c_.num_layers = 1, c_.num_heads = 2, c_.head_dim = 2, c_.projection_dim = 3, c_.pool_kernel = 1;
    const int64_t H = 4, F = 6;
    std::vector<std::pair<std::string, std::vector<int64_t>>> t = {
        {"v.patch_embd.weight", {2, 2, 3, H}},
        {"v.patch_embd.bias", {H}},
        {"v.position_embd.weight", {H, 4}},
        {"v.post_ln.weight", {H}},
        {"v.post_ln.bias", {H}},
        {"mm.soft_emb_norm.weight", {H}},
        {"mm.input_projection.weight", {3, H}}};
    for (const char* n : {"ln1", "ln2", "attn_q", "attn_k", "attn_v", "attn_out"}) {
      const bool vec = n[0] == 'l';
      t.push_back({std::string("v.blk.0.") + n + ".weight",
                   vec ? std::vector<int64_t>{H} : std::vector<int64_t>{H, H}});
      t.push_back({std::string("v.blk.0.") + n + ".bias", {H}});
    }
    const std::string up = legacy ? "ffn_down" : "ffn_up", down = legacy ? "ffn_up" : "ffn_down";
    t.push_back({"v.blk.0." + up + ".weight", {H, F}});
    t.push_back({"v.blk.0." + up + ".bias", {F}});
    t.push_back({"v.blk.0." + down + ".weight", {F, H}});
    t.push_back({"v.blk.0." + down + ".bias", {H}});
    GgufWriter w;
    w.add_string("general.architecture", "clip");
    for (const auto& [name, shape] : t) {
      if (name == drop) continue;
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      w.add_tensor(name, GgufType::F32, shape, iota_bytes(n));
    }
    const std::string path = (dir_ / "weights.gguf").string();
    EXPECT_TRUE(w.write(path));
    auto g = GgufFile::open(path);
    EXPECT_TRUE(g.ok()) << g.error();
    file_ = std::move(*g);
    return load_vision_weights(*file_, c_);
  }
  static float at(const Weight& w, int64_t r, int64_t c) {
    std::vector<float> row(w.cols);
    dequantize_row(w, r, row.data());
    return row[c];
  }

  VisionConfig c_;
  std::unique_ptr<GgufFile> file_;
};

TEST_F(VisionWeightsTest, LayoutsOfTheConvPositionsAndProjection) {
  auto w = load(false);
  ASSERT_TRUE(w.ok()) << w.error();
  // The conv [hidden, 3, 2, 2] (ggml [2, 2, 3, hidden]): row = output channel, cols (c, y, x).
  EXPECT_EQ(w->patch_embed.rows, 4);
  EXPECT_EQ(w->patch_embed.cols, 12);
  EXPECT_EQ(at(w->patch_embed, 1, 5), 17.0f);
  EXPECT_EQ(w->position_embed.rows, 4);
  EXPECT_EQ(at(w->position_embed, 2, 3), 11.0f);
  // The file's [hidden, text] (ggml [text, hidden]) becomes [text, hidden]: element (t, h) is
  // the file's h * text + t.
  EXPECT_EQ(w->input_projection.rows, 3);
  EXPECT_EQ(w->input_projection.cols, 4);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t h = 0; h < 4; ++h) EXPECT_EQ(at(w->input_projection, t, h), h * 3.0f + t);
  EXPECT_EQ(w->layers[0].w_up.rows, 6);    // fc1 [ffn, hidden]
  EXPECT_EQ(w->layers[0].w_down.rows, 4);  // fc2 [hidden, ffn]
}

TEST_F(VisionWeightsTest, LegacySwappedFfnNamesAreReadByShape) {
  auto plain = load(false);
  ASSERT_TRUE(plain.ok()) << plain.error();
  const float up = at(plain->layers[0].w_up, 5, 3), up_b = at(plain->layers[0].up_bias, 0, 5);
  auto legacy = load(true);
  ASSERT_TRUE(legacy.ok()) << legacy.error();
  EXPECT_EQ(legacy->layers[0].w_up.rows, 6);
  EXPECT_EQ(at(legacy->layers[0].w_up, 5, 3), up);
  EXPECT_EQ(at(legacy->layers[0].up_bias, 0, 5), up_b);
}

TEST_F(VisionWeightsTest, MissingTensorIsNamed) {
  auto w = load(false, "v.blk.0.attn_k.bias");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().find("missing tensor 'v.blk.0.attn_k.bias'"), std::string::npos) << w.error();
}

}  // namespace
}  // namespace sluice
