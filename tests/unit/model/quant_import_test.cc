// Importers (GGUF, MLX) and quantizers vs straightforward references: random blocks in each file
// layout are dequantized by a direct transcription of the format's formula and compared with
// import + dequantize_row. Allowed error: the half rounding of derived scales/offsets.
#include "model/quant_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/quant_blocks.h"
#include "common/half.h"
#include "model/quant_import_ggml.h"

namespace sluice {
namespace {

constexpr double kHalfUlp = 1.0 / 2048;  // relative rounding of a half (2^-11)
constexpr double kTiny = 6e-8;           // half subnormal spacing

struct Ref {
  std::vector<float> w;    // dequantized values
  std::vector<float> mag;  // |scale*q| + |offset| per element (the size of the rounded terms)
};

float hf(uint16_t v) {
  return f16_to_f32(v);
}

// ---- References: the dequantization formulas of each GGUF block format.
void ref_q4_0(const uint8_t* p, Ref* r) {
  ggml::BlockQ4_0 b;
  std::memcpy(&b, p, sizeof b);
  float out[32];
  for (int j = 0; j < 16; ++j) {
    out[j] = hf(b.d) * ((b.qs[j] & 15) - 8);
    out[j + 16] = hf(b.d) * ((b.qs[j] >> 4) - 8);
  }
  for (float v : out) r->w.push_back(v), r->mag.push_back(std::fabs(v) + 8 * std::fabs(hf(b.d)));
}
void ref_q4_1(const uint8_t* p, Ref* r) {
  ggml::BlockQ4_1 b;
  std::memcpy(&b, p, sizeof b);
  float out[32];
  for (int j = 0; j < 16; ++j) {
    out[j] = hf(b.d) * (b.qs[j] & 15) + hf(b.m);
    out[j + 16] = hf(b.d) * (b.qs[j] >> 4) + hf(b.m);
  }
  for (float v : out) r->w.push_back(v), r->mag.push_back(0);  // zero copy: exact
}
template <bool kMin, typename B>
void ref_q5(const uint8_t* p, Ref* r) {
  B b;
  std::memcpy(&b, p, sizeof b);
  uint32_t qh = b.qh[0] | (b.qh[1] << 8) | (b.qh[2] << 16) | (static_cast<uint32_t>(b.qh[3]) << 24);
  float out[32];
  float m = 0.0f;
  if constexpr (kMin) m = hf(b.m);
  for (int j = 0; j < 16; ++j) {
    const int x0 = (b.qs[j] & 15) | (((qh >> j) & 1) << 4);
    const int x1 = (b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    out[j] = kMin ? hf(b.d) * x0 + m : hf(b.d) * (x0 - 16);
    out[j + 16] = kMin ? hf(b.d) * x1 + m : hf(b.d) * (x1 - 16);
  }
  for (float v : out) r->w.push_back(v), r->mag.push_back(0);  // scale/offset copied: exact
}
void ref_q8_0(const uint8_t* p, Ref* r) {
  ggml::BlockQ8_0 b;
  std::memcpy(&b, p, sizeof b);
  for (int j = 0; j < 32; ++j) r->w.push_back(hf(b.d) * b.qs[j]), r->mag.push_back(0);
}
// get_scale_min_k4 of the spec, written out again independently of the importer's helper.
void scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 0x3f;
    *m = s[j + 4] & 0x3f;
  } else {
    *sc = (s[j + 4] & 0x0f) | ((s[j - 4] & 0xc0) >> 2);
    *m = ((s[j + 4] & 0xf0) >> 4) | ((s[j] & 0xc0) >> 2);
  }
}
void ref_q4_k(const uint8_t* p, Ref* r) {
  ggml::BlockQ4_K b;
  std::memcpy(&b, p, sizeof b);
  const float d = hf(b.d), dmin = hf(b.dmin);
  const uint8_t* q = b.qs;
  for (int c = 0; c < 4; ++c, q += 32) {  // 64 elements per chunk
    int sc1, m1, sc2, m2;
    scale_min(b.scales, 2 * c, &sc1, &m1);
    scale_min(b.scales, 2 * c + 1, &sc2, &m2);
    for (int l = 0; l < 32; ++l) {
      r->w.push_back(d * sc1 * (q[l] & 15) - dmin * m1);
      r->mag.push_back(std::fabs(d * sc1 * (q[l] & 15)) + std::fabs(dmin * m1));
    }
    for (int l = 0; l < 32; ++l) {
      r->w.push_back(d * sc2 * (q[l] >> 4) - dmin * m2);
      r->mag.push_back(std::fabs(d * sc2 * (q[l] >> 4)) + std::fabs(dmin * m2));
    }
  }
}
void ref_q5_k(const uint8_t* p, Ref* r) {
  ggml::BlockQ5_K b;
  std::memcpy(&b, p, sizeof b);
  const float d = hf(b.d), dmin = hf(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int c = 0; c < 4; ++c, ql += 32, u1 <<= 2, u2 <<= 2) {
    int sc1, m1, sc2, m2;
    scale_min(b.scales, 2 * c, &sc1, &m1);
    scale_min(b.scales, 2 * c + 1, &sc2, &m2);
    for (int l = 0; l < 32; ++l) {
      const int q = (ql[l] & 15) + ((b.qh[l] & u1) ? 16 : 0);
      r->w.push_back(d * sc1 * q - dmin * m1);
      r->mag.push_back(std::fabs(d * sc1 * q) + std::fabs(dmin * m1));
    }
    for (int l = 0; l < 32; ++l) {
      const int q = (ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0);
      r->w.push_back(d * sc2 * q - dmin * m2);
      r->mag.push_back(std::fabs(d * sc2 * q) + std::fabs(dmin * m2));
    }
  }
}
void ref_q6_k(const uint8_t* p, Ref* r) {
  ggml::BlockQ6_K b;
  std::memcpy(&b, p, sizeof b);
  const float d = hf(b.d);
  float y[256];
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[n + l] = d * sc[is] * q1;
      y[n + l + 32] = d * sc[is + 2] * q2;
      y[n + l + 64] = d * sc[is + 4] * q3;
      y[n + l + 96] = d * sc[is + 6] * q4;
    }
  }
  for (float v : y) r->w.push_back(v), r->mag.push_back(std::fabs(v));
}

struct TypeCase {
  GgufType type;
  int64_t block_elems;
  size_t block_bytes;
  void (*ref)(const uint8_t*, Ref*);
  DType expect;
};

// Random block bytes with every half field replaced by a sane positive value.
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
      default:
        break;
    }
  }
  return data;
}

GgufTensorInfo tensor_info(GgufType t, int64_t rows, int64_t cols, const std::vector<uint8_t>& d) {
  GgufTensorInfo info;
  info.name = "blk.0.test.weight";
  info.shape = {cols, rows};
  info.type = t;
  info.offset = 0;
  info.data = d.data();
  info.nbytes = d.size();
  return info;
}

const TypeCase kGgufCases[] = {
    {GgufType::Q4_0, 32, sizeof(ggml::BlockQ4_0), ref_q4_0, DType::Q4G32},
    {GgufType::Q4_1, 32, sizeof(ggml::BlockQ4_1), ref_q4_1, DType::Q4G32},
    {GgufType::Q5_0, 32, sizeof(ggml::BlockQ5_0), ref_q5<false, ggml::BlockQ5_0>, DType::Q8G32},
    {GgufType::Q5_1, 32, sizeof(ggml::BlockQ5_1), ref_q5<true, ggml::BlockQ5_1>, DType::Q8G32},
    {GgufType::Q8_0, 32, sizeof(ggml::BlockQ8_0), ref_q8_0, DType::Q8G32},
    {GgufType::Q4_K, 256, sizeof(ggml::BlockQ4_K), ref_q4_k, DType::Q4G32},
    {GgufType::Q5_K, 256, sizeof(ggml::BlockQ5_K), ref_q5_k, DType::Q8G32},
    {GgufType::Q6_K, 256, sizeof(ggml::BlockQ6_K), ref_q6_k, DType::Q8G16},
};

// Dequantizes all rows of w and checks them against ref within the half rounding of terms.
void expect_matches(const Weight& w, const Ref& ref, const std::string& what) {
  std::vector<float> row(w.cols);
  int bad = 0;
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t c = 0; c < w.cols; ++c) {
      const size_t i = r * w.cols + c;
      const double tol = kHalfUlp * ref.mag[i] + kTiny;
      if (std::fabs(row[c] - ref.w[i]) > tol && ++bad < 5)
        ADD_FAILURE() << what << " row " << r << " col " << c << ": got " << row[c] << " want "
                      << ref.w[i] << " tol " << tol;
    }
  }
  EXPECT_EQ(bad, 0) << what;
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
    if (c.type == GgufType::Q4_1) {
      EXPECT_EQ(w->data, data.data()) << "Q4_1 maps without copying";
    }
    expect_matches(*w, ref, gguf_type_name(c.type));
  }
}

TEST(ImportGguf, FloatTypesMapWithoutCopy) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n;
  const int64_t rows = 3, cols = 40;
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = n(rng);
  for (GgufType t : {GgufType::F32, GgufType::F16, GgufType::BF16}) {
    const auto bytes = quantize_to_gguf(t, x.data(), rows, cols);
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

// ---- Quantizers

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
