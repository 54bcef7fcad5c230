#pragma once
// Device-side decoding of one weight element or one 8-element chunk, for every DType.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/dtype.h"
#include "backend/quant_blocks.h"

namespace sluice::cuda {

__device__ __forceinline__ float half_bits(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}
__device__ __forceinline__ float bf16_bits(uint16_t h) {
  return __uint_as_float(static_cast<uint32_t>(h) << 16);
}

// Element j of row `row` (row_bytes apart), any dtype. Slow path: embeddings, dequantization.
__device__ __forceinline__ float weight_element(DType t, const uint8_t* row, int64_t j) {
  switch (t) {
    case DType::F32:
      return reinterpret_cast<const float*>(row)[j];
    case DType::F16:
      return half_bits(reinterpret_cast<const uint16_t*>(row)[j]);
    case DType::BF16:
      return bf16_bits(reinterpret_cast<const uint16_t*>(row)[j]);
    case DType::Q4G32: {
      const BlockQ4G32& b = reinterpret_cast<const BlockQ4G32*>(row)[j / 32];
      const int e = static_cast<int>(j % 32);
      const int code = e < 16 ? (b.codes[e] & 15) : (b.codes[e - 16] >> 4);
      return half_bits(b.scale) * static_cast<float>(code) + half_bits(b.offset);
    }
    case DType::Q8G32: {
      const BlockQ8G32& b = reinterpret_cast<const BlockQ8G32*>(row)[j / 32];
      return half_bits(b.scale) * static_cast<float>(b.codes[j % 32]) + half_bits(b.offset);
    }
    case DType::Q8G16: {
      const BlockQ8G16& b = reinterpret_cast<const BlockQ8G16*>(row)[j / 32];
      const int e = static_cast<int>(j % 32), g = e / 16;
      return half_bits(b.scale[g]) * static_cast<float>(b.codes[e]) + half_bits(b.offset[g]);
    }
  }
  return 0.0f;
}

}  // namespace sluice::cuda
