// Reference matmuls: float (dequantized weights) and int16 / int8 (quantized activations).
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "backend/reference/ref_ops.h"
#include "common/assert.h"
#include "common/half.h"

namespace sluice::ref {
namespace {

// A Q4G32R8 weight as the Q4G32 one it interleaves.
Weight as_q4g32(const Weight& w) {
  std::vector<int64_t> all(static_cast<size_t>(w.rows));
  std::iota(all.begin(), all.end(), int64_t{0});
  return w.select_rows(all);
}

}  // namespace

void matmul(const float* x, int64_t n, const Weight& w, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * w.cols;
      double acc = 0.0;
      for (int64_t k = 0; k < w.cols; ++k) acc += static_cast<double>(xi[k]) * row[k];
      y[i * w.rows + r] = static_cast<float>(acc);
    }
  }
}

void quantize_act_row(const float* x, int64_t cols, BlockAct16* out) {
  SLUICE_ASSERT(cols % kQuantBlock == 0, "activation row not a multiple of 32");
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 32767.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockAct16& o = out[b];
    o.d = d;
    int s[2] = {0, 0};
    for (int j = 0; j < 32; ++j) {
      const int q = static_cast<int>(std::nearbyint(xb[j] * id));
      o.q[j] = static_cast<int16_t>(q);
      s[j / 16] += q;
    }
    o.sum[0] = d * static_cast<float>(s[0]);
    o.sum[1] = d * static_cast<float>(s[1]);
  }
}

namespace {

// One output: sum over blocks of the exact integer dot, scaled; double accumulation.
double dot_act16(const Weight& w, int64_t r, const BlockAct16* xq) {
  const int64_t nb = w.cols / kQuantBlock;
  const uint8_t* p = w.row(r);
  double acc = 0.0;
  for (int64_t b = 0; b < nb; ++b) {
    const BlockAct16& a = xq[b];
    switch (w.dtype) {
      case DType::Q4G32: {
        const auto& blk = reinterpret_cast<const BlockQ4G32*>(p)[b];
        int64_t isum = 0;
        for (int j = 0; j < 16; ++j) {
          isum += (blk.codes[j] & 15) * a.q[j];
          isum += (blk.codes[j] >> 4) * a.q[j + 16];
        }
        acc += static_cast<double>(f16_to_f32(blk.scale)) * a.d * isum +
               static_cast<double>(f16_to_f32(blk.offset)) * (a.sum[0] + a.sum[1]);
        break;
      }
      case DType::Q8G32: {
        const auto& blk = reinterpret_cast<const BlockQ8G32*>(p)[b];
        int64_t isum = 0;
        for (int j = 0; j < 32; ++j) isum += blk.codes[j] * a.q[j];
        acc += static_cast<double>(f16_to_f32(blk.scale)) * a.d * isum +
               static_cast<double>(f16_to_f32(blk.offset)) * (a.sum[0] + a.sum[1]);
        break;
      }
      case DType::Q8G16: {
        const auto& blk = reinterpret_cast<const BlockQ8G16*>(p)[b];
        for (int g = 0; g < 2; ++g) {
          int64_t isum = 0;
          for (int j = 16 * g; j < 16 * g + 16; ++j) isum += blk.codes[j] * a.q[j];
          acc += static_cast<double>(f16_to_f32(blk.scale[g])) * a.d * isum +
                 static_cast<double>(f16_to_f32(blk.offset[g])) * a.sum[g];
        }
        break;
      }
      case DType::Q6G16: {
        const auto& blk = reinterpret_cast<const BlockQ6G16*>(p)[b];
        for (int g = 0; g < 2; ++g) {
          int64_t isum = 0;
          for (int j = 16 * g; j < 16 * g + 16; ++j) isum += q6g16_code(blk, j) * a.q[j];
          acc += static_cast<double>(f16_to_f32(blk.scale[g])) * a.d * isum;
        }
        break;
      }
      case DType::MXFP4: {
        const auto& blk = reinterpret_cast<const BlockMxfp4*>(p)[b];
        int64_t isum = 0;
        for (int j = 0; j < 16; ++j) {
          isum += kMxfp4Codes[blk.codes[j] & 15] * a.q[j];
          isum += kMxfp4Codes[blk.codes[j] >> 4] * a.q[j + 16];
        }
        acc += static_cast<double>(mxfp4_scale(blk.e)) * a.d * isum;
        break;
      }
      default:
        SLUICE_ASSERT(false, "matmul_act16 needs a quantized weight");
    }
  }
  return acc;
}

}  // namespace

void matmul_act16(const BlockAct16* xq, int64_t n, const Weight& w, float* y) {
  if (w.dtype == DType::Q4G32R8) return matmul_act16(xq, n, as_q4g32(w), y);
  const int64_t nb = w.cols / kQuantBlock;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < w.rows; ++r)
      y[i * w.rows + r] = static_cast<float>(dot_act16(w, r, xq + i * nb));
}

void quantize_act8_row(const float* x, int64_t cols, BlockAct8* out) {
  SLUICE_ASSERT(cols % kQuantBlock == 0, "activation row not a multiple of 32");
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockAct8& o = out[b];
    o.d = d;
    int s = 0;
    for (int j = 0; j < 32; ++j) {
      const int q = static_cast<int>(std::nearbyint(xb[j] * id));
      o.q[j] = static_cast<int8_t>(q);
      s += q;
    }
    o.sum = d * static_cast<float>(s);
  }
}

namespace {

// Exact integer dot of block b of weight row `row` (Q4G32 or Q8G32) with int8 activations q.
int64_t block_dot_act8(DType t, const uint8_t* row, int64_t b, const int8_t* q) {
  int64_t isum = 0;
  if (t == DType::Q4G32) {
    const auto& blk = reinterpret_cast<const BlockQ4G32*>(row)[b];
    for (int j = 0; j < 16; ++j)
      isum += (blk.codes[j] & 15) * q[j] + (blk.codes[j] >> 4) * q[j + 16];
  } else {
    const auto& blk = reinterpret_cast<const BlockQ8G32*>(row)[b];
    for (int j = 0; j < 32; ++j) isum += blk.codes[j] * q[j];
  }
  return isum;
}

}  // namespace

void matmul_act8(const BlockAct8* xq, int64_t n, const Weight& w, float* y) {
  if (w.dtype == DType::Q4G32R8) return matmul_act8(xq, n, as_q4g32(w), y);
  SLUICE_ASSERT(w.dtype == DType::Q4G32 || w.dtype == DType::Q8G32,
                "int8 activations are for Q4G32 and Q8G32 weights");
  const int64_t nb = w.cols / kQuantBlock;
  const int64_t block_bytes = static_cast<int64_t>(row_bytes(w.dtype, kQuantBlock));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < w.rows; ++r) {
      const uint8_t* row = w.row(r);
      double acc = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        const BlockAct8& a = xq[i * nb + b];
        uint16_t scale_offset[2];  // the same first two halves in both block types
        std::memcpy(scale_offset, row + b * block_bytes, 4);
        acc += static_cast<double>(f16_to_f32(scale_offset[0])) * a.d *
                   block_dot_act8(w.dtype, row, b, a.q) +
               static_cast<double>(f16_to_f32(scale_offset[1])) * a.sum;
      }
      y[i * w.rows + r] = static_cast<float>(acc);
    }
}

}  // namespace sluice::ref
