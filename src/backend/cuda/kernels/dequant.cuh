#pragma once
// Device-side decoding of one weight element or one 8-element chunk, for every DType.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/dtype.h"
#include "backend/quant_blocks.h"
#include "backend/weight.h"

namespace sluice::cuda {

__device__ __forceinline__ float half_bits(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}
__device__ __forceinline__ float bf16_bits(uint16_t h) {
  return __uint_as_float(static_cast<uint32_t>(h) << 16);
}

// The CUDA backend's layout of a placed quantized weight [rows, cols] of B = cols / 32 blocks
// per row ("planar"): the codes of every block, ordered (row, block), then every block's
// scale/offset header in the same order. Each part of a block is the same bytes as in
// quant_blocks.h, so the size is unchanged; the codes load as aligned 16-byte vectors.
// Float weights stay row-major.
__host__ __device__ constexpr int64_t code_bytes(DType t) {
  return t == DType::Q4G32 ? 16 : 32;  // Q8G32, Q8G16: 32 codes of a byte
}
__host__ __device__ constexpr int64_t header_bytes(DType t) {
  return t == DType::Q8G16 ? 8 : 4;  // two (scale, offset) pairs / one
}

// A weight's parts: unit i = row * units + u (a unit: a quantized block, or 8 float elements).
struct Planes {
  const uint8_t* codes = nullptr;    // [rows * units] units (float weights: the data)
  const uint8_t* headers = nullptr;  // [rows * units] headers (quantized only)
  int64_t units = 0;                 // per row
};
inline Planes planes(const Weight& w, int64_t unit_elems) {
  const uint8_t* headers = is_quantized(w.dtype)
                               ? w.data + w.rows * (w.cols / kQuantBlock) * code_bytes(w.dtype)
                               : nullptr;
  return Planes{w.data, headers, w.cols / unit_elems};
}

// Element (r, j) of a placed weight of `cols` columns, any dtype. Slow path: embeddings,
// dequantization of odd shapes.
__device__ __forceinline__ float weight_element(DType t, const Planes& p, int64_t cols, int64_t r,
                                                int64_t j) {
  switch (t) {
    case DType::F32:
      return reinterpret_cast<const float*>(p.codes)[r * cols + j];
    case DType::F16:
      return half_bits(reinterpret_cast<const uint16_t*>(p.codes)[r * cols + j]);
    case DType::BF16:
      return bf16_bits(reinterpret_cast<const uint16_t*>(p.codes)[r * cols + j]);
    default:
      break;
  }
  const int64_t i = r * (cols / 32) + j / 32;  // the block
  const int e = static_cast<int>(j % 32);
  const uint8_t* codes = p.codes + i * code_bytes(t);
  const uint16_t* head = reinterpret_cast<const uint16_t*>(p.headers + i * header_bytes(t));
  if (t == DType::Q4G32) {
    const int code = e < 16 ? (codes[e] & 15) : (codes[e - 16] >> 4);
    return half_bits(head[0]) * static_cast<float>(code) + half_bits(head[1]);
  }
  const float code = static_cast<float>(static_cast<int8_t>(codes[e]));
  if (t == DType::Q8G32) return half_bits(head[0]) * code + half_bits(head[1]);
  const int g = e / 16;  // Q8G16: head = scale[2], offset[2]
  return half_bits(head[g]) * code + half_bits(head[2 + g]);
}

}  // namespace sluice::cuda
