// GGUF tensor -> MLX tensors: the written triple, read back by the MLX importer, dequantizes to
// exactly the GGUF tensor's values (Q4_0, Q4_1, Q8_0); Q/K rows return to HF order; types with
// no exact layout are refused unless lossy conversion is allowed.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "backend/weight.h"
#include "common/half.h"
#include "convert/mlx_tensor_convert.h"
#include "convert/quantize.h"
#include "model/load/quant_import.h"
#include "model/load/quant_import_ggml.h"

namespace sluice {
namespace {

std::vector<float> random_rows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> v(rows * cols);
  for (float& x : v) x = nd(rng);
  return v;
}

GgufTensorInfo info(GgufType type, int64_t rows, int64_t cols, const std::vector<uint8_t>& bytes) {
  return {"blk.0.attn_q.weight", {cols, rows}, type, 0, bytes.data(), bytes.size()};
}

const SafetensorsWriteTensor& find(const MlxTensorResult& r, const std::string& name) {
  for (const auto& t : r.tensors)
    if (t.name == name) return t;
  ADD_FAILURE() << "no tensor " << name;
  return r.tensors.front();
}

// Reads the triple with sluice's MLX importer and dequantizes row r.
std::vector<float> mlx_row(const MlxTensorResult& r, int64_t rows, int64_t cols, int64_t row) {
  const auto& w = find(r, "m.q_proj.weight");
  const auto& s = find(r, "m.q_proj.scales");
  const auto& b = find(r, "m.q_proj.biases");
  const MlxScaleType st = s.dtype == "F16" ? MlxScaleType::F16 : MlxScaleType::F32;
  auto weight = import_mlx_quantized(reinterpret_cast<const uint32_t*>(w.bytes.data()),
                                     s.bytes.data(), b.bytes.data(), st, r.bits, 32, rows, cols);
  EXPECT_TRUE(weight.ok()) << weight.error();
  std::vector<float> out(cols);
  dequantize_row(*weight, row, out.data());
  return out;
}

std::vector<float> gguf_row(const GgufTensorInfo& t, int64_t rows, int64_t cols, int64_t row) {
  auto weight = import_gguf_tensor(t, rows, cols);
  EXPECT_TRUE(weight.ok()) << weight.error();
  std::vector<float> out(cols);
  dequantize_row(*weight, row, out.data());
  return out;
}

struct Case {
  GgufType type;
  int bits;
};

class ExactTypes : public ::testing::TestWithParam<Case> {};

TEST_P(ExactTypes, DequantizesBitIdentically) {
  const auto [type, bits] = GetParam();
  const int64_t rows = 16, cols = 96;
  const auto values = random_rows(rows, cols, 7);
  const auto bytes = quantize_to_gguf(type, values.data(), rows, cols);
  const GgufTensorInfo t = info(type, rows, cols, bytes);
  auto r = gguf_tensor_to_mlx(t, "m.q_proj.weight", rows, cols, {});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->bits, bits);
  EXPECT_EQ(r->dtype, "F16");
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(find(*r, "m.q_proj.weight").shape, (std::vector<int64_t>{rows, cols * bits / 32}));
  EXPECT_EQ(find(*r, "m.q_proj.scales").shape, (std::vector<int64_t>{rows, cols / 32}));
  for (int64_t row = 0; row < rows; ++row) {
    const auto a = gguf_row(t, rows, cols, row), b = mlx_row(*r, rows, cols, row);
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), cols * sizeof(float))) << "row " << row;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ExactTypes,
                         ::testing::Values(Case{GgufType::Q4_1, 4}, Case{GgufType::Q4_0, 4},
                                           Case{GgufType::Q8_0, 8}));

// llama.cpp's converter: w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2): GGUF (h, i, s) = HF (h,
// s, i).
TEST(ConvertMlx, UnpermutesRopeRows) {
  const int64_t heads = 3, hd = 8, rows = heads * hd, cols = 32;
  const auto hf = random_rows(rows, cols, 3);
  std::vector<float> gguf(hf.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t i = 0; i < hd / 2; ++i)
        std::memcpy(&gguf[(h * hd + 2 * i + s) * cols], &hf[(h * hd + s * hd / 2 + i) * cols],
                    cols * 4);
  const auto bytes = quantize_to_gguf(GgufType::Q4_1, gguf.data(), rows, cols);
  const auto hf_bytes = quantize_to_gguf(GgufType::Q4_1, hf.data(), rows, cols);
  MlxTensorOptions o;
  o.row_order = unpermute_rope_rows(heads, hd);
  auto r =
      gguf_tensor_to_mlx(info(GgufType::Q4_1, rows, cols, bytes), "m.q_proj.weight", rows, cols, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->exact);
  // Quantization is per row, so the HF-order file quantizes to the same rows.
  const GgufTensorInfo hf_t = info(GgufType::Q4_1, rows, cols, hf_bytes);
  for (int64_t row = 0; row < rows; ++row)
    EXPECT_EQ(gguf_row(hf_t, rows, cols, row), mlx_row(*r, rows, cols, row));
}

TEST(ConvertMlx, OverflowingBiasKeepsF32Scales) {
  const int64_t rows = 1, cols = 32;
  ggml::BlockQ4_0 b{};
  b.d = f32_to_f16(10000.0f);  // -8d = -80000 is beyond half's range
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<uint8_t> bytes(sizeof b);
  std::memcpy(bytes.data(), &b, sizeof b);
  const GgufTensorInfo t = info(GgufType::Q4_0, rows, cols, bytes);
  auto r = gguf_tensor_to_mlx(t, "m.q_proj.weight", rows, cols, {});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->dtype, "F32");
  EXPECT_TRUE(r->exact);
  // MLX's formula on the written tensors vs ggml's d * (q - 8) (sluice's own loader keeps
  // offsets in half, so it is not the reference here).
  float scale, bias;
  uint32_t words[4];
  std::memcpy(&scale, find(*r, "m.q_proj.scales").bytes.data(), 4);
  std::memcpy(&bias, find(*r, "m.q_proj.biases").bytes.data(), 4);
  std::memcpy(words, find(*r, "m.q_proj.weight").bytes.data(), 16);
  for (int k = 0; k < 32; ++k) {
    const int q = k < 16 ? (b.qs[k] & 15) : (b.qs[k - 16] >> 4);
    const uint32_t code = (words[k / 8] >> (4 * (k % 8))) & 15;
    EXPECT_EQ(scale * static_cast<float>(code) + bias, (q - 8) * f16_to_f32(b.d)) << k;
  }
}

TEST(ConvertMlx, KQuantNeedsAllowLossy) {
  const int64_t rows = 4, cols = 256;
  const auto values = random_rows(rows, cols, 5);
  const auto bytes = quantize_to_gguf(GgufType::Q4_K, values.data(), rows, cols);
  const GgufTensorInfo t = info(GgufType::Q4_K, rows, cols, bytes);
  auto refused = gguf_tensor_to_mlx(t, "m.q_proj.weight", rows, cols, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("--allow-lossy"), std::string::npos) << refused.error();
  MlxTensorOptions o;
  o.allow_lossy = true;
  auto r = gguf_tensor_to_mlx(t, "m.q_proj.weight", rows, cols, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->bits, 4);
  EXPECT_FALSE(r->exact);
  EXPECT_GT(r->rel_l2, 0.0);
  EXPECT_LT(r->rel_l2, 0.1);  // 4-bit affine of 4-bit values: small but nonzero
}

TEST(ConvertMlx, FloatDtypeIsExactOrRefused) {
  const int64_t n = 64;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = 1.0f + static_cast<float>(i) / 4.0f;  // exact in half
  std::vector<uint8_t> bytes(n * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  GgufTensorInfo t{"blk.0.attn_norm.weight", {n}, GgufType::F32, 0, bytes.data(), bytes.size()};
  MlxTensorOptions o;
  o.quantized_matrix = false;
  auto r = gguf_tensor_to_mlx(t, "m.norm.weight", 1, n, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->dtype, "F16");
  EXPECT_EQ(r->tensors.at(0).shape, (std::vector<int64_t>{n}));
  v[3] = 1.0f / 3.0f;  // needs F32
  std::memcpy(bytes.data(), v.data(), bytes.size());
  r = gguf_tensor_to_mlx(t, "m.norm.weight", 1, n, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->dtype, "F32");
  EXPECT_TRUE(r->exact);
  o.float_dtype = "BF16";
  EXPECT_FALSE(gguf_tensor_to_mlx(t, "m.norm.weight", 1, n, o).ok());
  o.allow_lossy = true;
  r = gguf_tensor_to_mlx(t, "m.norm.weight", 1, n, o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->exact);
}

}  // namespace
}  // namespace sluice
