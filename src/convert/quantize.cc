// Quantizers: float rows -> the internal family (quantize_weight), -> GGUF blocks
// (quantize_to_gguf) and -> MLX affine packing (quantize_to_mlx). Used by make-model and tests.
// Codes are always computed against the half-rounded scales that are stored.
#include "convert/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/quant_blocks.h"
#include "common/assert.h"
#include "common/half.h"
#include "model/load/quant_import_ggml.h"

namespace sluice {
namespace {

int round_clamp(float v, int lo, int hi) {
  const float r = std::nearbyint(v);
  if (!(r >= static_cast<float>(lo))) return lo;  // also NaN
  if (r > static_cast<float>(hi)) return hi;
  return static_cast<int>(r);
}

void min_max(const float* x, int64_t n, float* mn, float* mx) {
  *mn = x[0];
  *mx = x[0];
  for (int64_t i = 1; i < n; ++i) {
    *mn = std::min(*mn, x[i]);
    *mx = std::max(*mx, x[i]);
  }
}

float abs_max(const float* x, int64_t n) {
  float a = 0.0f;
  for (int64_t i = 0; i < n; ++i) a = std::max(a, std::fabs(x[i]));
  return a;
}

// Affine 4-bit over 32 values: codes 0..15, scale = (max-min)/15, offset = min (half-rounded).
void affine_q4(const float* x, uint16_t* scale, uint16_t* offset, uint8_t* codes) {
  float mn, mx;
  min_max(x, 32, &mn, &mx);
  *scale = f32_to_f16((mx - mn) / 15.0f);
  *offset = f32_to_f16(mn);
  const float s = f16_to_f32(*scale), o = f16_to_f32(*offset);
  const float is = s != 0.0f ? 1.0f / s : 0.0f;
  for (int j = 0; j < 32; ++j) codes[j] = static_cast<uint8_t>(round_clamp((x[j] - o) * is, 0, 15));
}

// Symmetric 8-bit over n values: codes -127..127, returns the half scale.
uint16_t symmetric_q8(const float* x, int n, int8_t* codes) {
  const uint16_t d = f32_to_f16(abs_max(x, n) / 127.0f);
  const float df = f16_to_f32(d);
  const float id = df != 0.0f ? 1.0f / df : 0.0f;
  for (int j = 0; j < n; ++j) codes[j] = static_cast<int8_t>(round_clamp(x[j] * id, -127, 127));
  return d;
}

void pack_nibbles(const uint8_t* codes, uint8_t* qs) {  // element j and j+16 share byte j
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(codes[j] | (codes[j + 16] << 4));
}

template <typename B>
void store(uint8_t* out, const B& b) {
  std::memcpy(out, &b, sizeof(B));
}

// ---------------------------------------------------------------- GGUF blocks

ggml::BlockQ8_0 gguf_q8_0(const float* x) {
  ggml::BlockQ8_0 b;
  b.d = symmetric_q8(x, 32, b.qs);
  return b;
}

// MXFP4 as llama.cpp quantizes it: scale 2^(floor(log2 max|x|) - 2) (max maps near code 6 of
// the E2M1 grid), each value to the nearest doubled E2M1 value (ties to the lower code).
ggml::BlockMxfp4 gguf_mxfp4(const float* x) {
  ggml::BlockMxfp4 b;
  const float amax = abs_max(x, 32);
  b.e = amax > 0.0f ? static_cast<uint8_t>(std::floor(std::log2(amax)) - 2 + 127) : 0;
  const float d = std::ldexp(1.0f, b.e - 128);
  uint8_t codes[32];
  for (int j = 0; j < 32; ++j) {
    int best = 0;
    float err = INFINITY;
    for (int q = 0; q < 16; ++q) {
      const float e = std::fabs(x[j] - ggml::kFp4Doubled[q] * d);
      if (e < err) err = e, best = q;
    }
    codes[j] = static_cast<uint8_t>(best);
  }
  pack_nibbles(codes, b.qs);
  return b;
}

ggml::BlockQ4_0 gguf_q4_0(const float* x) {
  // Scale from the value of largest magnitude, mapped to code 0 (-8 * d): d = max / -8.
  float m = 0.0f;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > std::fabs(m)) m = x[j];
  ggml::BlockQ4_0 b;
  b.d = f32_to_f16(m / -8.0f);
  const float d = f16_to_f32(b.d);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  uint8_t codes[32];
  for (int j = 0; j < 32; ++j)
    codes[j] = static_cast<uint8_t>(round_clamp(x[j] * id + 8.0f, 0, 15));
  pack_nibbles(codes, b.qs);
  return b;
}

ggml::BlockQ4_1 gguf_q4_1(const float* x) {
  ggml::BlockQ4_1 b;
  uint8_t codes[32];
  affine_q4(x, &b.d, &b.m, codes);
  pack_nibbles(codes, b.qs);
  return b;
}

// Squared error of 32 values coded as s*q - o with q in 0..15.
double q4_k_error(const float* x, float s, float o) {
  const float is = s != 0.0f ? 1.0f / s : 0.0f;
  double err = 0.0;
  for (int l = 0; l < 32; ++l) {
    const float v = s * static_cast<float>(round_clamp((x[l] + o) * is, 0, 15)) - o;
    err += static_cast<double>(v - x[l]) * (v - x[l]);
  }
  return err;
}

// Q4_K: per 32 sub-block min (clamped to <= 0) and scale; the 8 scales and 8 mins are then
// quantized to 6 bits against d = max scale / 63 and dmin = max min / 63.
ggml::BlockQ4_K gguf_q4_k(const float* x) {
  float scale[8], mins[8];  // mins[j] = -min >= 0
  for (int j = 0; j < 8; ++j) {
    float mn, mx;
    min_max(x + 32 * j, 32, &mn, &mx);
    mn = std::min(mn, 0.0f);
    scale[j] = (mx - mn) / 15.0f;
    mins[j] = -mn;
  }
  ggml::BlockQ4_K b{};
  b.d = f32_to_f16(*std::max_element(scale, scale + 8) / 63.0f);
  b.dmin = f32_to_f16(*std::max_element(mins, mins + 8) / 63.0f);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  int sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    // 6-bit scale and min: of the floor/ceil candidates keep the pair with the least error.
    const float fs = d > 0.0f ? scale[j] / d : 0.0f, fm = dmin > 0.0f ? mins[j] / dmin : 0.0f;
    double best = INFINITY;
    for (int cs : {static_cast<int>(std::floor(fs)), static_cast<int>(std::ceil(fs))}) {
      for (int cm : {static_cast<int>(std::floor(fm)), static_cast<int>(std::ceil(fm))}) {
        cs = std::clamp(cs, 0, 63);
        cm = std::clamp(cm, 0, 63);
        const double err =
            q4_k_error(x + 32 * j, d * static_cast<float>(cs), dmin * static_cast<float>(cm));
        if (err < best) best = err, sc[j] = cs, m[j] = cm;
      }
    }
  }
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
  for (int j = 0; j < 8; ++j) {
    const float s = d * static_cast<float>(sc[j]), o = dmin * static_cast<float>(m[j]);
    const float is = s != 0.0f ? 1.0f / s : 0.0f;
    uint8_t* qs = b.qs + 32 * (j / 2);
    for (int l = 0; l < 32; ++l) {
      const int q = round_clamp((x[32 * j + l] + o) * is, 0, 15);
      qs[l] |= static_cast<uint8_t>(j % 2 == 0 ? q : q << 4);
    }
  }
  return b;
}

// Q6_K: per 16 group, scale = (value of largest magnitude) / -32 so it maps to code -32; the 16
// scales are quantized to int8 against d = max |scale| / 127.
ggml::BlockQ6_K gguf_q6_k(const float* x) {
  float scale[16];
  for (int g = 0; g < 16; ++g) {
    float m = 0.0f;
    for (int j = 0; j < 16; ++j)
      if (std::fabs(x[16 * g + j]) > std::fabs(m)) m = x[16 * g + j];
    scale[g] = m / -32.0f;
  }
  ggml::BlockQ6_K b{};
  b.d = f32_to_f16(abs_max(scale, 16) / 127.0f);
  const float d = f16_to_f32(b.d);
  for (int g = 0; g < 16; ++g) {
    b.scales[g] = static_cast<int8_t>(d > 0.0f ? round_clamp(scale[g] / d, -127, 127) : 0);
  }
  for (int e = 0; e < 256; ++e) {
    const float s = d * static_cast<float>(b.scales[e / 16]);
    const int q = (s != 0.0f ? round_clamp(x[e] / s, -32, 31) : 0) + 32;
    const int n = e / 128, k = (e % 128) / 32, l = e % 32;
    b.ql[64 * n + l + 32 * (k & 1)] |= static_cast<uint8_t>(k < 2 ? (q & 15) : (q & 15) << 4);
    b.qh[32 * n + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
  }
  return b;
}

template <typename B, typename Fn>
std::vector<uint8_t> encode_blocks(const float* w, int64_t count, int64_t block, Fn&& fn) {
  SLUICE_ASSERT(count % block == 0, "quantize_to_gguf: row length not a multiple of the block");
  std::vector<uint8_t> out(static_cast<size_t>(count / block) * sizeof(B));
#pragma omp parallel for schedule(static) if (count > (1 << 20))
  for (int64_t i = 0; i < count / block; ++i) store(out.data() + i * sizeof(B), fn(w + i * block));
  return out;
}

void put_scale(std::vector<uint8_t>& out, int64_t i, float v, MlxScaleType st) {
  if (st == MlxScaleType::F32) {
    std::memcpy(out.data() + 4 * i, &v, 4);
  } else {
    const uint16_t hv = st == MlxScaleType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
    std::memcpy(out.data() + 2 * i, &hv, 2);
  }
}
float get_scale(const std::vector<uint8_t>& in, int64_t i, MlxScaleType st) {
  if (st == MlxScaleType::F32) {
    float v;
    std::memcpy(&v, in.data() + 4 * i, 4);
    return v;
  }
  uint16_t hv;
  std::memcpy(&hv, in.data() + 2 * i, 2);
  return st == MlxScaleType::F16 ? f16_to_f32(hv) : bf16_to_f32(hv);
}

}  // namespace

Weight quantize_weight(const float* w, int64_t rows, int64_t cols, DType type) {
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(type, cols));
  const int64_t count = rows * cols;
  switch (type) {
    case DType::F32:
      std::memcpy(bytes.data(), w, bytes.size());
      break;
    case DType::F16:
    case DType::BF16: {
      auto* o = reinterpret_cast<uint16_t*>(bytes.data());
      for (int64_t i = 0; i < count; ++i)
        o[i] = type == DType::F16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
      break;
    }
    case DType::Q4G32: {
      SLUICE_ASSERT(cols % 32 == 0, "quantize_weight: cols must be a multiple of 32");
      auto* o = reinterpret_cast<BlockQ4G32*>(bytes.data());
      for (int64_t b = 0; b < count / 32; ++b) {
        uint8_t codes[32];
        affine_q4(w + 32 * b, &o[b].scale, &o[b].offset, codes);
        pack_nibbles(codes, o[b].codes);
      }
      break;
    }
    case DType::Q8G32: {
      SLUICE_ASSERT(cols % 32 == 0, "quantize_weight: cols must be a multiple of 32");
      auto* o = reinterpret_cast<BlockQ8G32*>(bytes.data());
      for (int64_t b = 0; b < count / 32; ++b) {
        o[b].scale = symmetric_q8(w + 32 * b, 32, o[b].codes);
        o[b].offset = 0;
      }
      break;
    }
    case DType::Q8G16: {
      SLUICE_ASSERT(cols % 32 == 0, "quantize_weight: cols must be a multiple of 32");
      auto* o = reinterpret_cast<BlockQ8G16*>(bytes.data());
      for (int64_t b = 0; b < count / 32; ++b) {
        for (int g = 0; g < 2; ++g) {
          o[b].scale[g] = symmetric_q8(w + 32 * b + 16 * g, 16, o[b].codes + 16 * g);
          o[b].offset[g] = 0;
        }
      }
      break;
    }
    case DType::MXFP4: {  // as GGUF's: the same bytes
      SLUICE_ASSERT(cols % 32 == 0, "quantize_weight: cols must be a multiple of 32");
      static_assert(sizeof(ggml::BlockMxfp4) == sizeof(BlockMxfp4));
      for (int64_t b = 0; b < count / 32; ++b)
        store(bytes.data() + b * sizeof(BlockMxfp4), gguf_mxfp4(w + 32 * b));
      break;
    }
    case DType::Q6G16:  // no float quantizer: it holds GGUF Q6_K's values as they are
      SLUICE_ASSERT(false, "quantize_weight: Q6G16 comes only from GGUF Q6_K tensors");
      break;
    case DType::Q4G32R8:  // a load's layout of Q4G32 (q4g32_to_rows8), never written
      SLUICE_ASSERT(false, "quantize_weight: Q4G32R8 comes only from q4g32_to_rows8");
      break;
  }
  return Weight::from_owned(type, rows, cols, std::move(bytes));
}

bool gguf_quantize_supported(GgufType type) {
  switch (type) {
    case GgufType::F32:
    case GgufType::F16:
    case GgufType::BF16:
    case GgufType::Q8_0:
    case GgufType::Q4_0:
    case GgufType::Q4_1:
    case GgufType::Q4_K:
    case GgufType::Q6_K:
    case GgufType::MXFP4:
      return true;
    default:
      return false;
  }
}

std::vector<uint8_t> quantize_to_gguf(GgufType type, const float* w, int64_t rows, int64_t cols) {
  const int64_t count = rows * cols;
  SLUICE_ASSERT(gguf_quantize_supported(type), "quantize_to_gguf: unsupported type");
  switch (type) {
    case GgufType::F32: {
      std::vector<uint8_t> out(static_cast<size_t>(count) * 4);
      std::memcpy(out.data(), w, out.size());
      return out;
    }
    case GgufType::F16:
    case GgufType::BF16: {
      std::vector<uint8_t> out(static_cast<size_t>(count) * 2);
      for (int64_t i = 0; i < count; ++i) {
        const uint16_t v = type == GgufType::F16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
        std::memcpy(out.data() + 2 * i, &v, 2);
      }
      return out;
    }
    default:
      break;
  }
  const int64_t block = (type == GgufType::Q4_K || type == GgufType::Q6_K) ? ggml::kQKK : ggml::kQK;
  SLUICE_ASSERT(cols % block == 0, "quantize_to_gguf: cols not a multiple of the block size");
  switch (type) {
    case GgufType::Q8_0:
      return encode_blocks<ggml::BlockQ8_0>(w, count, block, gguf_q8_0);
    case GgufType::Q4_0:
      return encode_blocks<ggml::BlockQ4_0>(w, count, block, gguf_q4_0);
    case GgufType::Q4_1:
      return encode_blocks<ggml::BlockQ4_1>(w, count, block, gguf_q4_1);
    case GgufType::Q4_K:
      return encode_blocks<ggml::BlockQ4_K>(w, count, block, gguf_q4_k);
    case GgufType::Q6_K:
      return encode_blocks<ggml::BlockQ6_K>(w, count, block, gguf_q6_k);
    case GgufType::MXFP4:
      return encode_blocks<ggml::BlockMxfp4>(w, count, block, gguf_mxfp4);
    default:
      return {};
  }
}

MlxQuantized quantize_to_mlx(const float* w, int64_t rows, int64_t cols, int bits, int group_size,
                             MlxScaleType scale_type) {
  SLUICE_ASSERT(bits == 4 || bits == 8, "quantize_to_mlx: bits must be 4 or 8");
  SLUICE_ASSERT(group_size > 0 && cols % group_size == 0 && group_size % (32 / bits) == 0,
                "quantize_to_mlx: cols must be a multiple of group_size");
  const int64_t groups = rows * cols / group_size;
  const int scale_bytes = scale_type == MlxScaleType::F32 ? 4 : 2;
  const int qmax = (1 << bits) - 1, per_word = 32 / bits;
  MlxQuantized q;
  q.packed.assign(static_cast<size_t>(rows * cols / per_word), 0u);
  q.scales.resize(static_cast<size_t>(groups * scale_bytes));
  q.biases.resize(q.scales.size());
  for (int64_t g = 0; g < groups; ++g) {
    const float* x = w + g * group_size;
    float mn, mx;
    min_max(x, group_size, &mn, &mx);
    put_scale(q.scales, g, (mx - mn) / static_cast<float>(qmax), scale_type);
    put_scale(q.biases, g, mn, scale_type);
    const float s = get_scale(q.scales, g, scale_type), b = get_scale(q.biases, g, scale_type);
    const float is = s != 0.0f ? 1.0f / s : 0.0f;
    for (int j = 0; j < group_size; ++j) {
      const int64_t e = g * group_size + j;  // element index; rows are whole groups
      const auto code = static_cast<uint32_t>(round_clamp((x[j] - b) * is, 0, qmax));
      q.packed[e / per_word] |= code << ((e % per_word) * bits);
    }
  }
  return q;
}

}  // namespace sluice
