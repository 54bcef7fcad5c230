// Importers (GGUF, MLX) vs straightforward references: random blocks in each file layout are
// dequantized by a direct transcription of the format's formula and compared with import +
// dequantize_row. Allowed error: the half rounding of derived scales/offsets.
#include "model/load/quant_import.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/quant_blocks.h"
#include "common/half.h"
#include "gguf_block_reference.h"

namespace sluice {
namespace {

using gguf_ref::expect_matches;
using gguf_ref::kGgufCases;
using gguf_ref::Ref;
using gguf_ref::tensor_info;
using gguf_ref::TypeCase;

std::vector<uint8_t> random_blocks(const TypeCase& c, int64_t nblocks, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(1e-3f, 0.05f);
  std::vector<uint8_t> data(nblocks * c.block_bytes);
  for (auto& b : data) b = static_cast<uint8_t>(byte(rng));
  auto set_half = [&](uint8_t* p, float v) {
    const uint16_t hv = f32_to_f16(v);
    std::memcpy(p, &hv, 2);
  };
  for (int64_t i = 0; i < nblocks; ++i) {
    uint8_t* p = data.data() + i * c.block_bytes;
    switch (c.type) {
      case GgufType::Q4_0:
      case GgufType::Q5_0:
      case GgufType::Q8_0:
        set_half(p, scale(rng));
        break;
      case GgufType::Q4_1:
      case GgufType::Q5_1:
        set_half(p, scale(rng));
        set_half(p + 2, -8 * scale(rng));
        break;
      case GgufType::Q4_K:
      case GgufType::Q5_K:
        set_half(p, scale(rng) / 16);
        set_half(p + 2, scale(rng) / 16);
        break;
      case GgufType::Q6_K:
        set_half(p + 208, scale(rng) / 64);
        break;
      case GgufType::MXFP4:  // scales 2^-125 .. 2^16: the whole range read exactly
        p[0] = static_cast<uint8_t>(2 + byte(rng) % 142);
        break;
      default:
        break;
    }
  }
  return data;
}

// F32 / F16 / BF16 tensor bytes of x, as a GGUF file stores them.
std::vector<uint8_t> float_bytes(GgufType t, const std::vector<float>& x) {
  std::vector<uint8_t> out(x.size() * (t == GgufType::F32 ? 4 : 2));
  for (size_t i = 0; i < x.size(); ++i) {
    if (t == GgufType::F32) {
      std::memcpy(out.data() + 4 * i, &x[i], 4);
    } else {
      const uint16_t v = t == GgufType::F16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
      std::memcpy(out.data() + 2 * i, &v, 2);
    }
  }
  return out;
}

TEST(ImportGguf, QuantizedTypesMatchSpecDequantization) {
  std::mt19937 rng(1234);
  for (const TypeCase& c : kGgufCases) {
    const int64_t rows = 5, cols = 2 * 256;
    const auto data = random_blocks(c, rows * cols / c.block_elems, rng);
    Ref ref;
    for (int64_t b = 0; b < rows * cols / c.block_elems; ++b)
      c.ref(data.data() + b * c.block_bytes, &ref);
    auto w = import_gguf_tensor(tensor_info(c.type, rows, cols, data), rows, cols);
    ASSERT_TRUE(w.ok()) << w.error();
    EXPECT_EQ(w->dtype, c.expect) << gguf_type_name(c.type);
    EXPECT_EQ(w->rows, rows);
    EXPECT_EQ(w->cols, cols);
    if (c.type == GgufType::Q4_1 || c.type == GgufType::MXFP4) {
      EXPECT_EQ(w->data, data.data()) << "maps without copying";
    }
    expect_matches(*w, ref, gguf_type_name(c.type));
  }
}

// Q6_K as Q6G16 (for backends that read it) holds the same values as Q6_K as Q8G16, bit for
// bit, and q6g16_to_q8g16 gives back the Q8G16 blocks themselves.
TEST(ImportGguf, Q6kAsSixBitCodesKeepsTheValues) {
  std::mt19937 rng(77);
  const TypeCase* q6 = nullptr;
  for (const TypeCase& c : kGgufCases)
    if (c.type == GgufType::Q6_K) q6 = &c;
  ASSERT_NE(q6, nullptr);
  const int64_t rows = 4, cols = 3 * 256;
  const auto data = random_blocks(*q6, rows * cols / 256, rng);
  const GgufTensorInfo info = tensor_info(GgufType::Q6_K, rows, cols, data);
  auto wide = import_gguf_tensor(info, rows, cols);
  auto six = import_gguf_tensor(info, rows, cols, OptionalDTypes{.q6g16 = true});
  ASSERT_TRUE(wide.ok() && six.ok());
  EXPECT_EQ(wide->dtype, DType::Q8G16);
  EXPECT_EQ(six->dtype, DType::Q6G16);
  EXPECT_EQ(six->nbytes() * 40, wide->nbytes() * 28);
  std::vector<float> a(cols), b(cols);
  int codes_at_ends = 0;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(*wide, r, a.data());
    dequantize_row(*six, r, b.data());
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[c]), std::bit_cast<uint32_t>(b[c])) << r << "," << c;
    const auto* blk = reinterpret_cast<const BlockQ6G16*>(six->row(r));
    for (int64_t k = 0; k < cols / 32; ++k)
      for (int j = 0; j < 32; ++j) codes_at_ends += std::abs(q6g16_code(blk[k], j)) >= 31;
  }
  EXPECT_GT(codes_at_ends, 0) << "the test's codes reach -32 / 31";
  const Weight back = q6g16_to_q8g16(*six);
  ASSERT_EQ(back.dtype, DType::Q8G16);
  ASSERT_EQ(back.nbytes(), wide->nbytes());
  EXPECT_EQ(std::memcmp(back.data, wide->data, wide->nbytes()), 0);
}

TEST(ImportGguf, FloatTypesMapWithoutCopy) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n;
  const int64_t rows = 3, cols = 40;
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = n(rng);
  for (GgufType t : {GgufType::F32, GgufType::F16, GgufType::BF16}) {
    const auto bytes = float_bytes(t, x);
    auto w = import_gguf_tensor(tensor_info(t, rows, cols, bytes), rows, cols);
    ASSERT_TRUE(w.ok()) << w.error();
    EXPECT_EQ(w->data, bytes.data());
    EXPECT_EQ(w->dtype, t == GgufType::F32   ? DType::F32
                        : t == GgufType::F16 ? DType::F16
                                             : DType::BF16);
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(*w, r, row.data());
      for (int64_t c = 0; c < cols; ++c) {
        const float want = t == GgufType::F32   ? x[r * cols + c]
                           : t == GgufType::F16 ? f16_to_f32(f32_to_f16(x[r * cols + c]))
                                                : bf16_to_f32(f32_to_bf16(x[r * cols + c]));
        ASSERT_EQ(row[c], want);
      }
    }
  }
}

TEST(ImportGguf, RejectsBadTensors) {
  std::vector<uint8_t> data(10 * sizeof(ggml::BlockQ4_K));
  auto info = tensor_info(GgufType::Q4_K, 2, 2560, data);
  EXPECT_FALSE(import_gguf_tensor(info, 2, 2560).ok());  // short data: needs 20 blocks
  info = tensor_info(GgufType::Q4_K, 1, 1280, data);
  EXPECT_TRUE(import_gguf_tensor(info, 1, 1280).ok());
  EXPECT_FALSE(import_gguf_tensor(info, 2, 640).ok());  // shape mismatch with the info
  info = tensor_info(GgufType::Q4_K, 10, 128, data);
  const auto r = import_gguf_tensor(info, 10, 128);  // 128 not a multiple of 256
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("blk.0.test.weight"), std::string::npos) << r.error();
  info = tensor_info(GgufType::Q2_K, 1, 256, data);
  EXPECT_FALSE(import_gguf_tensor(info, 1, 256).ok());
}

// MXFP4: a NaN scale (255) is corrupted data and one past 2^16 is refused, naming the block;
// scales under 2^-126 (e < 2) read as 0.
TEST(ImportGguf, Mxfp4Scales) {
  std::vector<uint8_t> data(2 * sizeof(ggml::BlockMxfp4), 0x77);  // codes 7: 6.0 x scale
  data[0] = 127;
  data[sizeof(ggml::BlockMxfp4)] = 255;
  auto r = import_gguf_tensor(tensor_info(GgufType::MXFP4, 1, 64, data), 1, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("block 1 has a NaN scale"), std::string::npos) << r.error();
  data[sizeof(ggml::BlockMxfp4)] = 127 + 17;
  r = import_gguf_tensor(tensor_info(GgufType::MXFP4, 1, 64, data), 1, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("at most 2^16"), std::string::npos) << r.error();
  std::vector<float> row(64);
  for (const auto& [e, want] : {std::pair<int, float>{127 + 16, 6.0f * 65536.0f},
                                {100, std::ldexp(6.0f, -27)},
                                {2, std::ldexp(6.0f, -125)},
                                {1, 0.0f},
                                {0, 0.0f}}) {
    data[sizeof(ggml::BlockMxfp4)] = static_cast<uint8_t>(e);
    r = import_gguf_tensor(tensor_info(GgufType::MXFP4, 1, 64, data), 1, 64);
    ASSERT_TRUE(r.ok()) << r.error();
    dequantize_row(*r, 0, row.data());
    EXPECT_EQ(row[0], 6.0f);
    EXPECT_EQ(row[32], want) << "e = " << e;
  }
}

// ---- MLX

struct MlxCase {
  int bits, group;
  MlxScaleType st;
};

TEST(ImportMlx, MatchesAffineDefinition) {
  std::mt19937 rng(77);
  std::uniform_int_distribution<uint32_t> word;
  std::uniform_real_distribution<float> scale(1e-3f, 0.02f), bias(-1.0f, 1.0f);
  const MlxCase cases[] = {{4, 32, MlxScaleType::F16},  {4, 64, MlxScaleType::BF16},
                           {4, 128, MlxScaleType::F32}, {8, 32, MlxScaleType::BF16},
                           {8, 64, MlxScaleType::F16},  {8, 128, MlxScaleType::F32}};
  for (const MlxCase& c : cases) {
    const int64_t rows = 3, cols = 256;
    std::vector<uint32_t> packed(rows * cols * c.bits / 32);
    for (auto& p : packed) p = word(rng);
    const int64_t groups = rows * cols / c.group;
    const int sb = c.st == MlxScaleType::F32 ? 4 : 2;
    std::vector<uint8_t> sc(groups * sb), bi(groups * sb);
    std::vector<float> s(groups), b(groups);
    for (int64_t g = 0; g < groups; ++g) {
      s[g] = scale(rng);
      b[g] = bias(rng);
      if (c.st == MlxScaleType::F32) {
        std::memcpy(&sc[4 * g], &s[g], 4);
        std::memcpy(&bi[4 * g], &b[g], 4);
      } else {
        const uint16_t hs = c.st == MlxScaleType::F16 ? f32_to_f16(s[g]) : f32_to_bf16(s[g]);
        const uint16_t hb = c.st == MlxScaleType::F16 ? f32_to_f16(b[g]) : f32_to_bf16(b[g]);
        std::memcpy(&sc[2 * g], &hs, 2);
        std::memcpy(&bi[2 * g], &hb, 2);
        s[g] = c.st == MlxScaleType::F16 ? f16_to_f32(hs) : bf16_to_f32(hs);
        b[g] = c.st == MlxScaleType::F16 ? f16_to_f32(hb) : bf16_to_f32(hb);
      }
    }
    Ref ref;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t k = 0; k < cols; ++k) {
        // element k of a row: word k*bits/32, bits [(k % per_word)*bits, +bits)
        const uint32_t wv = packed[r * cols * c.bits / 32 + k * c.bits / 32];
        const uint32_t q = (wv >> ((k % (32 / c.bits)) * c.bits)) & ((1u << c.bits) - 1);
        const int64_t g = (r * cols + k) / c.group;
        ref.w.push_back(s[g] * q + b[g]);
        // 8-bit re-centring rounds bias + 128*scale; F32 scales round to half.
        ref.mag.push_back(std::fabs(s[g] * q) + std::fabs(b[g]) + (c.bits == 8 ? 256 * s[g] : 0));
      }
    }
    auto w = import_mlx_quantized(packed.data(), sc.data(), bi.data(), c.st, c.bits, c.group, rows,
                                  cols);
    ASSERT_TRUE(w.ok()) << w.error();
    EXPECT_EQ(w->dtype, c.bits == 4 ? DType::Q4G32 : DType::Q8G32);
    expect_matches(*w, ref,
                   "mlx " + std::to_string(c.bits) + "-bit group " + std::to_string(c.group));
  }
  EXPECT_FALSE(
      import_mlx_quantized(nullptr, nullptr, nullptr, MlxScaleType::F16, 3, 64, 1, 64).ok());
  std::vector<uint32_t> p(8);
  std::vector<uint16_t> s(1);
  EXPECT_FALSE(
      import_mlx_quantized(p.data(), s.data(), s.data(), MlxScaleType::F16, 4, 16, 1, 64).ok());
}

}  // namespace
}  // namespace sluice
