// A vision tower's tensors in Hugging Face / mlx-vlm checkpoints (model/vision/hf_vision_names.h,
// hf_mmproj_tensors.h): the name table, each layout conversion on hand-made tensors, MLX-quantized
// matrices, clear errors, and make-model's towers written as directories
// (convert/synthetic_vision.h) read back equal to the same towers' mmproj files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "convert/synthetic_vision.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/vision/hf_mmproj_tensors.h"
#include "model/vision/hf_vision_config.h"
#include "model/vision/hf_vision_names.h"
#include "model/vision/mmproj_tensors.h"
#include "model/vision/vision_weights.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::vector<float> row_of(const Weight& w, int64_t r) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  dequantize_row(w, r, row.data());
  return row;
}

std::map<std::string, HfVisionTensor> table_of(const VisionConfig& c) {
  std::map<std::string, HfVisionTensor> t;
  for (const HfVisionTensor& e : hf_vision_tensors(c)) t[e.mmproj] = e;
  return t;
}

TEST(HfVisionNamesTest, TransformersNamesAndLayouts) {
  auto q25 = vision_preset("qwen25vl-tiny", 64);
  ASSERT_TRUE(q25.ok());
  auto t = table_of(*q25);
  const HfVisionTensor& k = t.at("v.blk.1.attn_k.weight");
  EXPECT_EQ(k.name, "blocks.1.attn.qkv.weight");
  EXPECT_EQ(k.layout, HfLayout::kRows);
  EXPECT_EQ(k.first, 96);
  EXPECT_EQ(k.count, 96);
  EXPECT_EQ(k.shape, (std::vector<int64_t>{288, 96}));
  EXPECT_EQ(t.at("v.blk.1.attn_v.bias").first, 192);
  EXPECT_EQ(t.at("v.blk.0.ffn_gate.weight").name, "blocks.0.mlp.gate_proj.weight");
  EXPECT_EQ(t.at("v.blk.0.ffn_down.weight").shape, (std::vector<int64_t>{96, 200}));
  EXPECT_EQ(t.at("v.post_ln.weight").name, "merger.ln_q.weight");
  EXPECT_EQ(t.count("v.post_ln.bias"), 0u);  // RMSNorm
  EXPECT_EQ(t.at("mm.2.weight").name, "merger.mlp.2.weight");
  const HfVisionTensor& frame = t.at("v.patch_embd.weight.1");
  EXPECT_EQ(frame.name, "patch_embed.proj.weight");
  EXPECT_EQ(frame.layout, HfLayout::kConv3dFrame);
  EXPECT_EQ(frame.first, 1);
  EXPECT_EQ(frame.shape, (std::vector<int64_t>{96, 3, 2, 14, 14}));
  EXPECT_EQ(hf_write_prefix(ProjectorType::kQwen25VL, HfPart::kTower, false), "visual.");
  EXPECT_EQ(hf_write_prefix(ProjectorType::kQwen25VL, HfPart::kTower, true), "vision_tower.");

  auto q3 = vision_preset("qwen3vl-tiny", 64);
  ASSERT_TRUE(q3.ok());
  t = table_of(*q3);
  EXPECT_EQ(t.at("v.deepstack.2.fc1.weight").name, "deepstack_merger_list.1.linear_fc1.weight");
  EXPECT_EQ(t.at("v.deepstack.0.norm.bias").name, "deepstack_merger_list.0.norm.bias");
  EXPECT_EQ(t.at("v.blk.3.attn_qkv.weight").layout, HfLayout::kSame);
  EXPECT_EQ(t.at("v.position_embd.weight").name, "pos_embed.weight");
  EXPECT_EQ(t.at("v.blk.0.ffn_up.weight").name, "blocks.0.mlp.linear_fc1.weight");
  EXPECT_EQ(t.at("mm.0.bias").name, "merger.linear_fc1.bias");
  EXPECT_EQ(hf_write_prefix(ProjectorType::kQwen3VL, HfPart::kTower, false), "model.visual.");

  auto g = vision_preset("tiny", 64);
  ASSERT_TRUE(g.ok());
  t = table_of(*g);
  EXPECT_EQ(t.at("v.blk.1.ffn_up.bias").name, "encoder.layers.1.mlp.fc1.bias");
  EXPECT_EQ(t.at("v.blk.0.attn_out.weight").name, "encoder.layers.0.self_attn.out_proj.weight");
  EXPECT_EQ(t.at("mm.soft_emb_norm.weight").part, HfPart::kProjector);
  EXPECT_EQ(t.at("mm.soft_emb_norm.weight").layout, HfLayout::kPlusOne);
  EXPECT_EQ(t.at("mm.input_projection.weight").name, "mm_input_projection_weight");
  EXPECT_EQ(t.at("mm.input_projection.weight").shape, (std::vector<int64_t>{96, 64}));
  EXPECT_EQ(hf_write_prefix(ProjectorType::kGemma3, HfPart::kTower, true),
            "vision_tower.vision_model.");
  EXPECT_EQ(mlx_conv_shape({8, 3, 2, 4, 4}), (std::vector<int64_t>{8, 2, 4, 4, 3}));
  EXPECT_EQ(mlx_conv_shape({8, 3, 4, 4}), (std::vector<int64_t>{8, 4, 4, 3}));
}

// Hand-made checkpoints of a small tower (width 32, one head, patch 2) and their reading.
class HfTensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("hf_vision_tensors_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    c_.projector = ProjectorType::kQwen3VL;
    c_.hidden_size = 32, c_.num_heads = 1, c_.head_dim = 32, c_.intermediate_size = 64;
    c_.num_layers = 1, c_.patch_size = 2, c_.merge_size = 2, c_.projection_dim = 8;
    c_.position_grid = 2;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static SafetensorsWriteTensor f32(const std::string& name, std::vector<int64_t> shape,
                                    const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    return {name, "F32", std::move(shape), std::move(bytes)};
  }
  Result<std::unique_ptr<HfMmprojTensors>> open(const std::vector<SafetensorsWriteTensor>& t,
                                                const std::string& file = "model.safetensors") {
    EXPECT_TRUE(write_safetensors((dir_ / file).string(), t));
    return HfMmprojTensors::open(dir_.string(), c_);
  }

  VisionConfig c_;
  fs::path dir_;
};

// Element (h, c, t, y, x) of a convolution: a value that names it.
float conv_value(int64_t h, int64_t c, int64_t t, int64_t y, int64_t x) {
  return static_cast<float>(h * 10000 + c * 1000 + t * 100 + y * 10 + x);
}

TEST_F(HfTensorsTest, Conv3dFramesFromTransformersAndMlxLayouts) {
  const int64_t H = 32, P = 2;
  std::vector<float> hf, mlx;  // [H, 3, 2, P, P] and [H, 2, P, P, 3], written out loop by loop
  for (int64_t h = 0; h < H; ++h)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t t = 0; t < 2; ++t)
        for (int64_t y = 0; y < P; ++y)
          for (int64_t x = 0; x < P; ++x) hf.push_back(conv_value(h, c, t, y, x));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t y = 0; y < P; ++y)
        for (int64_t x = 0; x < P; ++x)
          for (int64_t c = 0; c < 3; ++c) mlx.push_back(conv_value(h, c, t, y, x));
  for (const auto& [prefix, shape, values] :
       {std::tuple{"model.visual.", std::vector<int64_t>{H, 3, 2, P, P}, hf},
        std::tuple{"vision_tower.", std::vector<int64_t>{H, 2, P, P, 3}, mlx}}) {
    auto r = open({f32(std::string(prefix) + "patch_embed.proj.weight", shape, values)});
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ((*r)->tower_prefix(), prefix);
    for (int64_t t = 0; t < 2; ++t) {
      auto w = (*r)->patch_conv(t == 0 ? "v.patch_embd.weight" : "v.patch_embd.weight.1", H, P);
      ASSERT_TRUE(w.ok()) << w.error();
      ASSERT_EQ(w->rows, H);
      ASSERT_EQ(w->cols, 3 * P * P);
      for (int64_t h : {0, 17, 31}) {  // columns (channel, y, x) of frame t
        const std::vector<float> row = row_of(*w, h);
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t y = 0; y < P; ++y)
            for (int64_t x = 0; x < P; ++x)
              EXPECT_EQ(row[(c * P + y) * P + x], conv_value(h, c, t, y, x)) << prefix;
      }
    }
    EXPECT_EQ((*r)->ggml_shape("v.patch_embd.weight"), (std::vector<int64_t>{P, P, 3, H}));
  }
}

TEST_F(HfTensorsTest, Conv2dOfGemmaFromBothLayoutsAndMisshapenConvs) {
  c_.projector = ProjectorType::kGemma3;
  const int64_t H = 32, P = 2;
  std::vector<float> hf, mlx;  // [H, 3, P, P] and [H, P, P, 3]
  for (int64_t h = 0; h < H; ++h)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < P; ++y)
        for (int64_t x = 0; x < P; ++x) hf.push_back(conv_value(h, c, 0, y, x));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t y = 0; y < P; ++y)
      for (int64_t x = 0; x < P; ++x)
        for (int64_t c = 0; c < 3; ++c) mlx.push_back(conv_value(h, c, 0, y, x));
  const std::string name = "vision_tower.vision_model.embeddings.patch_embedding.weight";
  const auto norm =
      f32("multi_modal_projector.mm_soft_emb_norm.weight", {H}, std::vector<float>(H, 0.25f));
  for (const auto& [shape, values] : {std::pair{std::vector<int64_t>{H, 3, P, P}, hf},
                                      std::pair{std::vector<int64_t>{H, P, P, 3}, mlx}}) {
    auto r = open({f32(name, shape, values), norm});
    ASSERT_TRUE(r.ok()) << r.error();
    auto w = (*r)->patch_conv("v.patch_embd.weight", H, P);
    ASSERT_TRUE(w.ok()) << w.error();
    const std::vector<float> row = row_of(*w, 5);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < P; ++y)
        for (int64_t x = 0; x < P; ++x)
          EXPECT_EQ(row[(c * P + y) * P + x], conv_value(5, c, 0, y, x));
    // Gemma RMSNorm's weight w is llama.cpp's 1 + w
    auto n = (*r)->vector("mm.soft_emb_norm.weight", H);
    ASSERT_TRUE(n.ok()) << n.error();
    EXPECT_EQ(row_of(*n, 0)[7], 1.25f);
  }
  auto bad = open({f32(name, {H, P, 3, P}, hf), norm});
  ASSERT_TRUE(bad.ok()) << bad.error();
  auto w = (*bad)->patch_conv("v.patch_embd.weight", H, P);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), "[vision] " + dir_.string() + ": tensor '" + name +
                           "' has shape [32, 2, 3, 2], expected [32, 3, 2, 2] (transformers) or "
                           "[32, 2, 2, 3] (MLX, channels last)");
}

TEST_F(HfTensorsTest, FusedQkvRowsAndMissingTensors) {
  c_.projector = ProjectorType::kQwen25VL;
  const int64_t H = 32, Q = 32;
  std::vector<float> qkv, bias;
  for (int64_t r = 0; r < 3 * Q; ++r) {
    bias.push_back(static_cast<float>(-r));
    for (int64_t col = 0; col < H; ++col) qkv.push_back(static_cast<float>(r * 100 + col));
  }
  auto r = open(
      {f32("visual.patch_embed.proj.weight", {H, 3, 2, 2, 2}, std::vector<float>(H * 24, 0.0f)),
       f32("visual.blocks.0.attn.qkv.weight", {3 * Q, H}, qkv),
       f32("visual.blocks.0.attn.qkv.bias", {3 * Q}, bias)});
  ASSERT_TRUE(r.ok()) << r.error();
  auto k = (*r)->matrix("v.blk.0.attn_k.weight", Q, H);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->rows, Q);
  EXPECT_EQ(row_of(*k, 0)[0], 100.0f * Q);
  EXPECT_EQ(row_of(*k, 3)[5], 100.0f * (Q + 3) + 5);
  auto vb = (*r)->vector("v.blk.0.attn_v.bias", Q);
  ASSERT_TRUE(vb.ok()) << vb.error();
  EXPECT_EQ(row_of(*vb, 0)[1], -(2.0f * Q + 1));
  EXPECT_EQ((*r)->ggml_shape("v.blk.0.attn_q.weight"), (std::vector<int64_t>{H, Q}));
  EXPECT_TRUE((*r)->has("v.patch_embd.weight.1"));
  EXPECT_FALSE((*r)->has("v.patch_embd.bias"));  // Qwen2.5-VL's conv has none
  EXPECT_FALSE((*r)->has("v.blk.0.ffn_gate.weight"));
  auto missing = (*r)->matrix("v.blk.0.ffn_gate.weight", 64, H);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "[vision] " + dir_.string() +
                                 ": missing tensor 'visual.blocks.0.mlp.gate_proj.weight' "
                                 "(llama.cpp's 'v.blk.0.ffn_gate.weight')");
  auto wrong = (*r)->matrix("v.blk.0.attn_out.weight", H, Q);  // absent too
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("visual.blocks.0.attn.proj.weight"), std::string::npos);
}

TEST_F(HfTensorsTest, NoTowerUnderAnyPrefix) {
  auto r = open({f32("language_model.model.norm.weight", {4}, {1, 2, 3, 4})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no vision tower tensors: none of 'visual.patch_embed.proj.weight', "
                           "'model.visual.patch_embed.proj.weight', "
                           "'vision_tower.patch_embed.proj.weight' exists"),
            std::string::npos)
      << r.error();
  EXPECT_FALSE(holds_vision_tensors(dir_.string()));
  fs::remove(dir_ / "model.safetensors");
  auto none = HfMmprojTensors::open(dir_.string(), c_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no .safetensors files"), std::string::npos) << none.error();
}

TEST_F(HfTensorsTest, MlxQuantizedMatrix) {
  // attn.proj [32, 32] as mlx-vlm's 4-bit group 32: packed [32, 4] U32, scales/biases [32, 1]
  const int64_t H = 32;
  std::vector<uint32_t> packed(H * 4, 0);
  std::vector<float> scales(H), biases(H);
  for (int64_t r = 0; r < H; ++r) {
    scales[r] = 0.5f + 0.0625f * static_cast<float>(r % 8), biases[r] = -1.0f;  // exact in F16
    for (int64_t col = 0; col < H; ++col)
      packed[r * 4 + col / 8] |= static_cast<uint32_t>((r + col) % 16) << (4 * (col % 8));
  }
  std::vector<uint8_t> bytes(packed.size() * 4);
  std::memcpy(bytes.data(), packed.data(), bytes.size());
  auto r = open({f32("model.visual.patch_embed.proj.weight", {H, 3, 2, 2, 2},
                     std::vector<float>(H * 24, 0.0f)),
                 {"model.visual.blocks.0.attn.proj.weight", "U32", {H, 4}, bytes},
                 f32("model.visual.blocks.0.attn.proj.scales", {H, 1}, scales),
                 f32("model.visual.blocks.0.attn.proj.biases", {H, 1}, biases)});
  ASSERT_TRUE(r.ok()) << r.error();
  auto w = (*r)->matrix("v.blk.0.attn_out.weight", H, H);
  ASSERT_TRUE(w.ok()) << w.error();
  EXPECT_TRUE(is_quantized(w->dtype));
  for (int64_t row : {0, 9, 31}) {
    const std::vector<float> got = row_of(*w, row);
    for (int64_t col = 0; col < H; ++col)
      EXPECT_NEAR(got[col], scales[row] * static_cast<float>((row + col) % 16) - 1.0f, 1e-6)
          << row << "," << col;
  }
}

// make-model's towers: the directory read back gives the mmproj's config and weights.
class HfRoundTripTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("hf_vision_round_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "hf");
    std::ofstream(dir_ / "hf" / "config.json") << "{}";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

void expect_same(const Weight& a, const Weight& b, const std::string& what) {
  ASSERT_EQ(a.rows, b.rows) << what;
  ASSERT_EQ(a.cols, b.cols) << what;
  double worst = 0.0;
  for (int64_t r = 0; r < a.rows; ++r) {
    const std::vector<float> x = row_of(a, r), y = row_of(b, r);
    for (int64_t c = 0; c < a.cols; ++c)
      worst =
          std::max(worst, std::fabs(double(x[c]) - y[c]) / std::max(1.0, std::fabs(double(x[c]))));
  }
  // F32 on both sides but Gemma's input projection (F16 in every mmproj) and its norm (1 + w)
  EXPECT_LE(worst, what == "input_projection" ? 1e-3 : 1e-6) << what;
}

TEST_P(HfRoundTripTest, DirectoryEqualsMmproj) {
  auto c = vision_preset(GetParam(), 64);
  ASSERT_TRUE(c.ok());
  MmprojWriteOptions m;
  m.matrix_type = GgufType::F32;
  m.seed = 7;
  const std::string mmproj = (dir_ / "mmproj.gguf").string(), hf = (dir_ / "hf").string();
  ASSERT_TRUE(write_synthetic_mmproj(*c, m, mmproj));
  ASSERT_TRUE(write_hf_vision_tower(*c, {false, 7, "F32"}, hf));
  auto g = GgufFile::open(mmproj);
  ASSERT_TRUE(g.ok());
  auto gc = read_vision_config(**g);
  auto hc = read_hf_vision_config(hf);
  ASSERT_TRUE(gc.ok()) << gc.error();
  ASSERT_TRUE(hc.ok()) << hc.error();
  for (const VisionConfig* x : {&*gc, &*hc}) {  // the config the directory and mmproj describe
    EXPECT_EQ(x->projector, c->projector);
    EXPECT_EQ(x->image_size, c->image_size);
    EXPECT_EQ(x->patch_size, c->patch_size);
    EXPECT_EQ(x->hidden_size, c->hidden_size);
    EXPECT_EQ(x->intermediate_size, c->intermediate_size);
    EXPECT_EQ(x->num_layers, c->num_layers);
    EXPECT_EQ(x->num_heads, c->num_heads);
    EXPECT_EQ(x->head_dim, c->head_dim);
    EXPECT_EQ(x->layer_norm_eps, c->layer_norm_eps);
    EXPECT_EQ(x->projection_dim, c->projection_dim);
    EXPECT_EQ(x->pool_kernel, c->pool_kernel);
    EXPECT_EQ(x->image_mean, c->image_mean);
    EXPECT_EQ(x->image_std, c->image_std);
    EXPECT_EQ(x->merge_size, c->merge_size);
    EXPECT_EQ(x->window_size, c->window_size);
    EXPECT_EQ(x->full_attention_every, c->full_attention_every);
    EXPECT_EQ(x->min_pixels, c->min_pixels);
    EXPECT_EQ(x->max_pixels, c->max_pixels);
    EXPECT_EQ(x->deepstack_layers, c->deepstack_layers);
    EXPECT_EQ(x->position_grid, c->position_grid);
  }
  auto from_gguf = load_vision_weights(**g, *gc);
  auto tensors = HfMmprojTensors::open(hf, *hc);
  ASSERT_TRUE(tensors.ok()) << tensors.error();
  auto from_dir = load_vision_weights(**tensors, *hc);
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.error();
  ASSERT_TRUE(from_dir.ok()) << from_dir.error();
  const VisionWeights &a = *from_gguf, &b = *from_dir;
  const std::pair<const char*, Weight VisionWeights::*> top[] = {
      {"patch_embed", &VisionWeights::patch_embed},
      {"patch_bias", &VisionWeights::patch_bias},
      {"position_embed", &VisionWeights::position_embed},
      {"post_norm_w", &VisionWeights::post_norm_w},
      {"post_norm_b", &VisionWeights::post_norm_b},
      {"soft_emb_norm", &VisionWeights::soft_emb_norm},
      {"input_projection", &VisionWeights::input_projection},
      {"merger_fc1", &VisionWeights::merger_fc1},
      {"merger_fc1_bias", &VisionWeights::merger_fc1_bias},
      {"merger_fc2", &VisionWeights::merger_fc2},
      {"merger_fc2_bias", &VisionWeights::merger_fc2_bias}};
  for (const auto& [what, m] : top) expect_same(a.*m, b.*m, what);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i)
    for (auto m : kVisionLayerWeights)
      expect_same(a.layers[i].*m, b.layers[i].*m, "layer " + std::to_string(i));
  ASSERT_EQ(a.deepstack.size(), b.deepstack.size());
  for (size_t k = 0; k < a.deepstack.size(); ++k)
    for (auto m : {&DeepstackMergerWeights::norm_w, &DeepstackMergerWeights::norm_b,
                   &DeepstackMergerWeights::fc1, &DeepstackMergerWeights::fc1_bias,
                   &DeepstackMergerWeights::fc2, &DeepstackMergerWeights::fc2_bias})
      expect_same(a.deepstack[k].*m, b.deepstack[k].*m, "deepstack " + std::to_string(k));
  EXPECT_TRUE(has_vision_config(hf));
  EXPECT_TRUE(holds_vision_tensors(hf));
}

INSTANTIATE_TEST_SUITE_P(Presets, HfRoundTripTest,
                         ::testing::Values("tiny", "qwen25vl-tiny", "qwen3vl-tiny"));

}  // namespace
}  // namespace sluice
