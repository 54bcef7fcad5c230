#pragma once
// Helpers for backend tests: seeded random data, normalized errors, random quantized weights.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/quant_blocks.h"
#include "backend/weight.h"
#include "common/half.h"

namespace sluice::testing {

inline std::vector<float> randn(size_t count, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

// ||a - b|| / ||b||
inline double rel_l2(const float* a, const float* b, size_t count) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
inline double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  return rel_l2(a.data(), b.data(), std::min(a.size(), b.size()));
}

// Random weight of any dtype with plausible scales: codes uniform, scale in [0.002, 0.02],
// offset in [-0.05, 0.05] (0 for the symmetric 8-bit types); MXFP4 codes uniform.
inline Weight random_weight(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f), offset(-0.05f, 0.05f);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::uniform_int_distribution<int> byte(0, 255), code8(-128, 127);
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(t, cols));
  const int64_t count = rows * cols, nb = count / kQuantBlock;
  switch (t) {
    case DType::F32:
      for (int64_t i = 0; i < count; ++i) {
        const float v = normal(rng);
        std::memcpy(&bytes[i * 4], &v, 4);
      }
      break;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < count; ++i) {
        const float v = normal(rng);
        const uint16_t h = t == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(&bytes[i * 2], &h, 2);
      }
      break;
    case DType::Q4G32: {
      auto* b = reinterpret_cast<BlockQ4G32*>(bytes.data());
      for (int64_t i = 0; i < nb; ++i) {
        b[i].scale = f32_to_f16(scale(rng));
        b[i].offset = f32_to_f16(offset(rng) - 7.5f * f16_to_f32(b[i].scale));
        for (auto& c : b[i].codes) c = static_cast<uint8_t>(byte(rng));
      }
      break;
    }
    case DType::Q8G32: {
      auto* b = reinterpret_cast<BlockQ8G32*>(bytes.data());
      for (int64_t i = 0; i < nb; ++i) {
        b[i].scale = f32_to_f16(scale(rng) / 16);
        b[i].offset = f32_to_f16(offset(rng) * 0.1f);
        for (auto& c : b[i].codes) c = static_cast<int8_t>(code8(rng));
      }
      break;
    }
    case DType::Q8G16: {
      auto* b = reinterpret_cast<BlockQ8G16*>(bytes.data());
      for (int64_t i = 0; i < nb; ++i) {
        for (int g = 0; g < 2; ++g) {
          b[i].scale[g] = f32_to_f16(scale(rng) / 16);
          b[i].offset[g] = f32_to_f16(offset(rng) * 0.1f);
        }
        for (auto& c : b[i].codes) c = static_cast<int8_t>(code8(rng));
      }
      break;
    }
    case DType::Q6G16: {
      std::uniform_int_distribution<int> code6(-32, 31);
      auto* b = reinterpret_cast<BlockQ6G16*>(bytes.data());
      for (int64_t i = 0; i < nb; ++i) {
        for (int j = 0; j < 32; ++j) q6g16_set_code(b[i], j, code6(rng));
        for (int g = 0; g < 2; ++g) b[i].scale[g] = f32_to_f16(scale(rng) / 4);
      }
      break;
    }
    case DType::MXFP4: {  // scales 2^-9 .. 2^-5 (x 12 at most): gpt-oss's range
      auto* b = reinterpret_cast<BlockMxfp4*>(bytes.data());
      for (int64_t i = 0; i < nb; ++i) {
        b[i].e = static_cast<uint8_t>(119 + byte(rng) % 5);
        for (auto& c : b[i].codes) c = static_cast<uint8_t>(byte(rng));
      }
      break;
    }
  }
  return Weight::from_owned(t, rows, cols, std::move(bytes));
}

}  // namespace sluice::testing
