// Quantizers (float rows -> internal family, GGUF blocks, MLX affine) round-tripped through the
// importers and checked against the GGUF spec's dequantization formulas.
#include "convert/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "../model/gguf_block_reference.h"
#include "common/half.h"
#include "model/load/quant_import.h"

namespace sluice {
namespace {

using gguf_ref::expect_matches;
using gguf_ref::kGgufCases;
using gguf_ref::kHalfUlp;
using gguf_ref::kTiny;
using gguf_ref::Ref;
using gguf_ref::tensor_info;
using gguf_ref::TypeCase;

std::vector<float> randn(size_t n, uint32_t seed, float sd = 0.05f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double rel_err(const Weight& w, const std::vector<float>& x) {
  std::vector<float> row(w.cols);
  double num = 0, den = 0;
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t c = 0; c < w.cols; ++c) {
      const double e = row[c] - x[r * w.cols + c];
      num += e * e;
      den += static_cast<double>(x[r * w.cols + c]) * x[r * w.cols + c];
    }
  }
  return std::sqrt(num / den);
}

TEST(QuantizeWeight, ErrorWithinHalfAStep) {
  const int64_t rows = 7, cols = 128;
  auto x = randn(rows * cols, 3);
  for (int j = 0; j < 32; ++j) x[32 + j] = 0.25f;  // constant block
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
    const Weight w = quantize_weight(x.data(), rows, cols, t);
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(w, r, row.data());
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t b = (r * cols + c) / 32;
        double step = 0, off = 0;
        if (t == DType::Q4G32) {
          const auto& blk = reinterpret_cast<const BlockQ4G32*>(w.data)[b];
          step = f16_to_f32(blk.scale), off = f16_to_f32(blk.offset);
        } else if (t == DType::Q8G32) {
          step = f16_to_f32(reinterpret_cast<const BlockQ8G32*>(w.data)[b].scale);
        } else {
          step = f16_to_f32(reinterpret_cast<const BlockQ8G16*>(w.data)[b].scale[c % 32 / 16]);
        }
        const double tol =
            0.51 * step + 16 * kHalfUlp * step + 2 * kHalfUlp * std::fabs(off) + kTiny;
        ASSERT_LE(std::fabs(row[c] - x[r * cols + c]), tol)
            << dtype_name(t) << " r" << r << " c" << c;
      }
    }
  }
}

TEST(QuantizeToGguf, RoundTripsThroughImporter) {
  const int64_t rows = 6, cols = 512;
  auto x = randn(rows * cols, 9);
  for (int j = 0; j < 256; ++j) x[cols + j] = 0.0f;  // an all-zero super-block
  struct Case {
    GgufType t;
    double max_rel;
  };
  // Gaussian data: 4-bit steps of ~range/15 give ~8% rms error; 6-bit ~2%; 8-bit < 1%.
  const Case cases[] = {{GgufType::Q8_0, 0.01}, {GgufType::Q4_0, 0.15}, {GgufType::Q4_1, 0.10},
                        {GgufType::Q4_K, 0.10}, {GgufType::Q6_K, 0.03}, {GgufType::F16, 1e-3},
                        {GgufType::BF16, 5e-3}, {GgufType::F32, 0.0}};
  for (const Case& c : cases) {
    const auto bytes = quantize_to_gguf(c.t, x.data(), rows, cols);
    auto w = import_gguf_tensor(tensor_info(c.t, rows, cols, bytes), rows, cols);
    ASSERT_TRUE(w.ok()) << w.error();
    const double e = rel_err(*w, x);
    EXPECT_LE(e, c.max_rel) << gguf_type_name(c.t);
    // The bytes decode the same through the spec reference (what llama.cpp would read).
    for (const TypeCase& tc : kGgufCases) {
      if (tc.type != c.t) continue;
      Ref ref;
      for (size_t b = 0; b < bytes.size() / tc.block_bytes; ++b)
        tc.ref(bytes.data() + b * tc.block_bytes, &ref);
      expect_matches(*w, ref, std::string("encoded ") + gguf_type_name(c.t));
    }
  }
  EXPECT_TRUE(gguf_quantize_supported(GgufType::Q4_K));
  EXPECT_FALSE(gguf_quantize_supported(GgufType::Q5_K));
}

TEST(QuantizeToGguf, Q4KBeatsPlainQ4_0) {
  const auto x = randn(4 * 1024, 21);
  auto err = [&](GgufType t) {
    const auto bytes = quantize_to_gguf(t, x.data(), 4, 1024);
    return rel_err(*import_gguf_tensor(tensor_info(t, 4, 1024, bytes), 4, 1024), x);
  };
  EXPECT_LT(err(GgufType::Q4_K), err(GgufType::Q4_0));
  EXPECT_LT(err(GgufType::Q6_K), err(GgufType::Q4_K));
}

TEST(QuantizeToMlx, RoundTripsThroughImporter) {
  const int64_t rows = 4, cols = 256;
  auto x = randn(rows * cols, 13);
  for (int j = 0; j < 64; ++j) x[j] = -0.125f;  // constant group (max == min)
  for (int bits : {4, 8}) {
    for (int group : {32, 64, 128}) {
      for (MlxScaleType st : {MlxScaleType::F16, MlxScaleType::BF16, MlxScaleType::F32}) {
        const MlxQuantized q = quantize_to_mlx(x.data(), rows, cols, bits, group, st);
        ASSERT_EQ(q.packed.size(), static_cast<size_t>(rows * cols * bits / 32));
        const size_t sb = st == MlxScaleType::F32 ? 4 : 2;
        ASSERT_EQ(q.scales.size(), rows * cols / group * sb);
        auto w = import_mlx_quantized(q.packed.data(), q.scales.data(), q.biases.data(), st, bits,
                                      group, rows, cols);
        ASSERT_TRUE(w.ok()) << w.error();
        const double e = rel_err(*w, x);
        EXPECT_LE(e, bits == 4 ? 0.12 : 0.012) << bits << "-bit group " << group;
        std::vector<float> row(cols);
        dequantize_row(*w, 0, row.data());
        if (group <= 64) {  // the constant group is reproduced exactly
          for (int j = 0; j < 64; ++j) ASSERT_EQ(row[j], -0.125f) << bits << "-bit group " << group;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice
