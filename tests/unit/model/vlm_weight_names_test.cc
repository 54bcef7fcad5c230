// A safetensors directory's language model under each prefix checkpoints use ("model.",
// "model.language_model.", "language_model.model."), its head under "lm_head." or
// "language_model.lm_head.", Qwen3-VL-MoE's fused experts, and the errors naming the file's names.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "convert/quantize.h"
#include "formats/safetensors.h"
#include "model/load/weight_source.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

SafetensorsWriteTensor f32(const std::string& name, std::vector<int64_t> shape,
                           const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return {name, "F32", std::move(shape), std::move(b)};
}

std::vector<float> iota(size_t n, float start) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

std::vector<float> rows_of(const Weight& w) {
  std::vector<float> out(w.rows * w.cols);
  for (int64_t r = 0; r < w.rows; ++r) dequantize_row(w, r, out.data() + r * w.cols);
  return out;
}

class VlmWeightNames : public ::testing::Test {
 protected:
  std::string write(const std::vector<SafetensorsWriteTensor>& tensors) {
    const std::string dir =
        (fs::temp_directory_path() / ("sluice_vlm_names_" + std::to_string(++count_))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    EXPECT_TRUE(write_safetensors(dir + "/model.safetensors", tensors).ok());
    dirs_.push_back(dir);
    return dir;
  }
  void TearDown() override {
    for (const std::string& d : dirs_) fs::remove_all(d);
  }
  std::vector<std::string> dirs_;
  int count_ = 0;
};

TEST_F(VlmWeightNames, TextModelUnderEachPrefix) {
  for (const char* prefix : {"model.", "model.language_model.", "language_model.model."})
    for (const char* head : {"lm_head.weight", "language_model.lm_head.weight"}) {
      SCOPED_TRACE(std::string(prefix) + " / " + head);
      const std::string dir = write(
          {f32(std::string(prefix) + "embed_tokens.weight", {4, 2}, iota(8, 0)),
           f32(std::string(prefix) + "layers.0.input_layernorm.weight", {2}, {5, 6}),
           f32(head, {4, 2}, iota(8, 100)), f32("visual.blocks.0.norm1.weight", {2}, {7, 8})});
      auto src = make_safetensors_weight_source(dir, nlohmann::json::object());
      ASSERT_TRUE(src.ok()) << src.error();
      auto e = (*src)->matrix("model.embed_tokens.weight", 4, 2);
      ASSERT_TRUE(e.ok()) << e.error();
      EXPECT_EQ(rows_of(*e), iota(8, 0));
      auto n = (*src)->vector("model.layers.0.input_layernorm.weight", 2);
      ASSERT_TRUE(n.ok()) << n.error();
      EXPECT_EQ(*n, (std::vector<float>{5, 6}));
      ASSERT_TRUE((*src)->has("lm_head.weight"));
      auto h = (*src)->matrix("lm_head.weight", 4, 2);
      ASSERT_TRUE(h.ok()) << h.error();
      EXPECT_EQ(rows_of(*h), iota(8, 100));
      // A tensor missing under the prefix is named as the file would hold it.
      auto missing = (*src)->vector("model.layers.0.post_attention_layernorm.weight", 2);
      ASSERT_FALSE(missing.ok());
      EXPECT_NE(missing.error().find("missing tensor '" + std::string(prefix) +
                                     "layers.0.post_attention_layernorm.weight'"),
                std::string::npos)
          << missing.error();
    }
}

TEST_F(VlmWeightNames, AnEmbeddingUnderNoKnownPrefixIsNamedInTheError) {
  const std::string dir = write({f32("text_model.embed_tokens.weight", {4, 2}, iota(8, 0))});
  auto src = make_safetensors_weight_source(dir, nlohmann::json::object());
  ASSERT_TRUE(src.ok()) << src.error();
  EXPECT_FALSE((*src)->has("model.embed_tokens.weight"));
  auto e = (*src)->matrix("model.embed_tokens.weight", 4, 2);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("missing tensor 'model.embed_tokens.weight' (the language model's "
                           "embed_tokens.weight is under none of model., model.language_model., "
                           "language_model.model.)"),
            std::string::npos)
      << e.error();
}

// Qwen3-VL-MoE as published: gate_up_proj [E, H, 2I] (gate's I columns, then up's), down_proj
// [E, I, H]; transformers 5's in-memory [E, 2I, H] / [E, H, I] reads the same.
TEST_F(VlmWeightNames, Qwen3VLMoeFusedExperts) {
  const int64_t E = 2, H = 3, I = 2;
  // gate[e][i][h] = 100e + 10i + h, up = that + 50, down[e][h][i] = 100e + 10h + i + 1000.
  auto gate = [](int64_t e, int64_t i, int64_t h) { return float(100 * e + 10 * i + h); };
  auto up = [&](int64_t e, int64_t i, int64_t h) { return gate(e, i, h) + 50; };
  auto down = [](int64_t e, int64_t h, int64_t i) { return float(1000 + 100 * e + 10 * h + i); };
  std::vector<float> gu_in(E * H * 2 * I), d_in(E * I * H), gu_out(E * 2 * I * H), d_out(E * H * I);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < I; ++i) {
        gu_in[(e * H + h) * 2 * I + i] = gate(e, i, h);
        gu_in[(e * H + h) * 2 * I + I + i] = up(e, i, h);
        d_in[(e * I + i) * H + h] = down(e, h, i);
        gu_out[(e * 2 * I + i) * H + h] = gate(e, i, h);
        gu_out[(e * 2 * I + I + i) * H + h] = up(e, i, h);
        d_out[(e * H + h) * I + i] = down(e, h, i);
      }
  const std::string p = "model.language_model.layers.0.mlp.experts.";
  const nlohmann::json config = {{"model_type", "qwen3_vl_moe"},
                                 {"text_config", {{"model_type", "qwen3_vl_moe_text"}}}};
  for (bool published : {true, false}) {
    SCOPED_TRACE(published ? "published [E, H, 2I]" : "output-major [E, 2I, H]");
    const std::string dir =
        write({f32("model.language_model.embed_tokens.weight", {4, 3}, iota(12, 0)),
               published ? f32(p + "gate_up_proj", {E, H, 2 * I}, gu_in)
                         : f32(p + "gate_up_proj", {E, 2 * I, H}, gu_out),
               published ? f32(p + "down_proj", {E, I, H}, d_in)
                         : f32(p + "down_proj", {E, H, I}, d_out)});
    auto src = make_safetensors_weight_source(dir, config);
    ASSERT_TRUE(src.ok()) << src.error();
    const std::string c = "model.layers.0.mlp.experts.";
    auto g = (*src)->experts(c + "gate_proj.weight", E, I, H);
    auto u = (*src)->experts(c + "up_proj.weight", E, I, H);
    auto d = (*src)->experts(c + "down_proj.weight", E, H, I);
    ASSERT_TRUE(g.ok() && u.ok() && d.ok())
        << g.status().message() << u.status().message() << d.status().message();
    const std::vector<float> gv = rows_of(*g), uv = rows_of(*u), dv = rows_of(*d);
    for (int64_t e = 0; e < E; ++e)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < I; ++i) {
          EXPECT_EQ(gv[(e * I + i) * H + h], gate(e, i, h));
          EXPECT_EQ(uv[(e * I + i) * H + h], up(e, i, h));
          EXPECT_EQ(dv[(e * H + h) * I + i], down(e, h, i));
        }
  }
}

// mlx-vlm's per-module quantization keys name the file's modules ("language_model.model...").
TEST_F(VlmWeightNames, MlxOverridesNameTheFilesModules) {
  std::vector<float> w(2 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i));
  const MlxQuantized q = quantize_to_mlx(w.data(), 2, 64, 8, 64, MlxScaleType::F16);
  std::vector<uint8_t> packed(q.packed.size() * 4);
  std::memcpy(packed.data(), q.packed.data(), packed.size());
  const std::string base = "language_model.model.layers.0.mlp.gate";
  const std::string dir =
      write({f32("language_model.model.embed_tokens.weight", {4, 2}, iota(8, 0)),
             {base + ".weight", "U32", {2, 16}, packed},
             {base + ".scales", "F16", {2, 1}, q.scales},
             {base + ".biases", "F16", {2, 1}, q.biases}});
  nlohmann::json config = {{"quantization", {{"bits", 4}, {"group_size", 64}}}};
  auto src = make_safetensors_weight_source(dir, config);
  ASSERT_TRUE(src.ok()) << src.error();
  auto m = (*src)->matrix("model.layers.0.mlp.gate.weight", 2, 64);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("config.json says 4-bit"), std::string::npos) << m.error();
  config["quantization"][base] = {{"bits", 8}, {"group_size", 64}};
  src = make_safetensors_weight_source(dir, config);
  ASSERT_TRUE(src.ok()) << src.error();
  m = (*src)->matrix("model.layers.0.mlp.gate.weight", 2, 64);
  ASSERT_TRUE(m.ok()) << m.error();
  const std::vector<float> got = rows_of(*m);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-2f) << i;
}

}  // namespace
}  // namespace sluice
