#pragma once
// The dequantization formulas of each GGUF block format, transcribed from the spec independently
// of the importer, and a check of an imported Weight against them (quant import and quantizer
// tests).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "backend/quant_blocks.h"
#include "backend/weight.h"
#include "common/half.h"
#include "formats/gguf.h"
#include "model/load/quant_import_ggml.h"

namespace sluice::gguf_ref {

constexpr double kHalfUlp = 1.0 / 2048;  // relative rounding of a half (2^-11)
constexpr double kTiny = 6e-8;           // half subnormal spacing

struct Ref {
  std::vector<float> w;    // dequantized values
  std::vector<float> mag;  // |scale*q| + |offset| per element (the size of the rounded terms)
};

inline float hf(uint16_t v) {
  return f16_to_f32(v);
}

// ---- References: the dequantization formulas of each GGUF block format.
inline void ref_q4_0(const uint8_t* p, Ref* r) {
  ggml::BlockQ4_0 b;
  std::memcpy(&b, p, sizeof b);
  float out[32];
  for (int j = 0; j < 16; ++j) {
    out[j] = hf(b.d) * ((b.qs[j] & 15) - 8);
    out[j + 16] = hf(b.d) * ((b.qs[j] >> 4) - 8);
  }
  for (float v : out) r->w.push_back(v), r->mag.push_back(std::fabs(v) + 8 * std::fabs(hf(b.d)));
}
inline void ref_q4_1(const uint8_t* p, Ref* r) {
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
inline void ref_q5(const uint8_t* p, Ref* r) {
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
inline void ref_q8_0(const uint8_t* p, Ref* r) {
  ggml::BlockQ8_0 b;
  std::memcpy(&b, p, sizeof b);
  for (int j = 0; j < 32; ++j) r->w.push_back(hf(b.d) * b.qs[j]), r->mag.push_back(0);
}
// get_scale_min_k4 of the spec, written out again independently of the importer's helper.
inline void scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 0x3f;
    *m = s[j + 4] & 0x3f;
  } else {
    *sc = (s[j + 4] & 0x0f) | ((s[j - 4] & 0xc0) >> 2);
    *m = ((s[j + 4] & 0xf0) >> 4) | ((s[j] & 0xc0) >> 2);
  }
}
inline void ref_q4_k(const uint8_t* p, Ref* r) {
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
inline void ref_q5_k(const uint8_t* p, Ref* r) {
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
inline void ref_q6_k(const uint8_t* p, Ref* r) {
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

// OCP MX: E2M1 = sign (bit 3), exponent (bits 2-1, bias 1), mantissa (bit 0); x 2^(e - 127).
inline void ref_mxfp4(const uint8_t* p, Ref* r) {
  const double d = std::ldexp(1.0, p[0] - 127);
  for (int j = 0; j < 32; ++j) {
    const int q = j < 16 ? p[1 + j] & 15 : p[1 + j - 16] >> 4;
    const int exp = (q >> 1) & 3, man = q & 1;
    const double mag = exp == 0 ? 0.5 * man : std::ldexp(1.0 + 0.5 * man, exp - 1);
    r->w.push_back(static_cast<float>((q & 8 ? -mag : mag) * d));
    r->mag.push_back(0.0f);  // exact: no rounded term
  }
}

struct TypeCase {
  GgufType type;
  int64_t block_elems;
  size_t block_bytes;
  void (*ref)(const uint8_t*, Ref*);
  DType expect;
};

// Random block bytes with every half field replaced by a sane positive value.

inline GgufTensorInfo tensor_info(GgufType t, int64_t rows, int64_t cols,
                                  const std::vector<uint8_t>& d) {
  GgufTensorInfo info;
  info.name = "blk.0.test.weight";
  info.shape = {cols, rows};
  info.type = t;
  info.offset = 0;
  info.data = d.data();
  info.nbytes = d.size();
  return info;
}

inline const TypeCase kGgufCases[] = {
    {GgufType::Q4_0, 32, sizeof(ggml::BlockQ4_0), ref_q4_0, DType::Q4G32},
    {GgufType::Q4_1, 32, sizeof(ggml::BlockQ4_1), ref_q4_1, DType::Q4G32},
    {GgufType::Q5_0, 32, sizeof(ggml::BlockQ5_0), ref_q5<false, ggml::BlockQ5_0>, DType::Q8G32},
    {GgufType::Q5_1, 32, sizeof(ggml::BlockQ5_1), ref_q5<true, ggml::BlockQ5_1>, DType::Q8G32},
    {GgufType::Q8_0, 32, sizeof(ggml::BlockQ8_0), ref_q8_0, DType::Q8G32},
    {GgufType::Q4_K, 256, sizeof(ggml::BlockQ4_K), ref_q4_k, DType::Q4G32},
    {GgufType::Q5_K, 256, sizeof(ggml::BlockQ5_K), ref_q5_k, DType::Q8G32},
    {GgufType::Q6_K, 256, sizeof(ggml::BlockQ6_K), ref_q6_k, DType::Q8G16},
    {GgufType::MXFP4, 32, sizeof(ggml::BlockMxfp4), ref_mxfp4, DType::MXFP4},
};

// Dequantizes all rows of w and checks them against ref within the half rounding of terms.
inline void expect_matches(const Weight& w, const Ref& ref, const std::string& what) {
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

}  // namespace sluice::gguf_ref
