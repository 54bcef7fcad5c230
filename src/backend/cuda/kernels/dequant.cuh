#pragma once
// Device-side decoding of one weight element or one 8-element chunk, for every DType.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/kernels/q6_codes.h"
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
// Float weights stay row-major. Q6G16's codes are two planes: every block's 16 low-nibble bytes,
// then every block's 8 high-bit bytes (16-byte and 8-byte aligned loads).
__host__ __device__ constexpr int64_t code_bytes(DType t) {
  // Q8G32, Q8G16: 32 codes of a byte; Q6G16: 16 + 8
  return t == DType::Q4G32 || t == DType::MXFP4 ? 16 : t == DType::Q6G16 ? 24 : 32;
}
__host__ __device__ constexpr int64_t header_bytes(DType t) {
  // two (scale, offset) pairs / MXFP4's exponent byte / one pair, or Q6G16's two scales
  return t == DType::Q8G16 ? 8 : t == DType::MXFP4 ? 1 : 4;
}

// MXFP4's scale 2^(e - 128) (0 for e < 2), as quant_blocks.h's mxfp4_scale.
__device__ __forceinline__ float mxfp4_scale_dev(uint32_t e) {
  return __uint_as_float(e >= 2 ? (e - 1) << 23 : 0u);
}

__device__ __forceinline__ uint32_t prmt(uint32_t a, uint32_t b, uint32_t sel) {
  uint32_t d;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(sel));
  return d;
}

// The low 16 bits of s as four MXFP4 nibbles (nibble k = bits 4k..4k+3) -> byte k the signed
// code kMxfp4Codes[nibble k]: magnitude and negation tables by the low 3 bits, picked by a
// mask whose byte k replicates the nibble's sign bit (prmt's sign mode, selectors 8-15).
__device__ __forceinline__ uint32_t mxfp4_lookup4(uint32_t s) {
  const uint32_t idx = s & 0x7777u;
  const uint32_t pos = prmt(0x03020100u, 0x0C080604u, idx);  // 0 1 2 3 | 4 6 8 12
  const uint32_t neg = prmt(0xFDFEFF00u, 0xF4F8FAFCu, idx);  // 0 -1 -2 -3 | -4 -6 -8 -12
  // s << 4: nibble 0's sign at bit 7, nibble 2's at bit 15; s: nibbles 1, 3 at bits 7, 15.
  const uint32_t mask = prmt(s << 4, s, 0xD9C8u);
  return (pos & ~mask) | (neg & mask);
}

// A word of MXFP4 codes (byte i: element i low nibble, element 16 + i high nibble) -> lo: the
// four low-nibble codes as signed bytes, hi: the four high-nibble ones.
__device__ __forceinline__ void mxfp4_word(uint32_t w, uint32_t& lo, uint32_t& hi) {
  const uint32_t a = mxfp4_lookup4(w), b = mxfp4_lookup4(w >> 16);  // lo0 hi0 lo1 hi1 | 2, 3
  lo = __byte_perm(a, b, 0x6420u);
  hi = __byte_perm(a, b, 0x7531u);
}

// A weight's parts: unit i = row * units + u (a unit: a quantized block, or 8 float elements).
struct Planes {
  const uint8_t* codes = nullptr;    // [rows * units] units (float weights: the data)
  const uint8_t* headers = nullptr;  // [rows * units] headers (quantized only)
  int64_t units = 0;                 // per row
  const uint8_t* hi = nullptr;       // Q6G16: [rows * units] 8-byte high bits (codes: low 16)
};
// The planes of a quantized weight of `rows` x `units` blocks placed at `base`.
__host__ __device__ inline Planes quant_planes(DType t, const uint8_t* base, int64_t rows,
                                               int64_t units) {
  const int64_t blocks = rows * units;
  return Planes{base, base + blocks * code_bytes(t), units,
                t == DType::Q6G16 ? base + blocks * 16 : nullptr};
}
inline Planes planes(const Weight& w, int64_t unit_elems) {
  if (!is_quantized(w.dtype)) return Planes{w.data, nullptr, w.cols / unit_elems};
  Planes p = quant_planes(w.dtype, w.data, w.rows, w.cols / kQuantBlock);
  p.units = w.cols / unit_elems;
  return p;
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
  if (t == DType::Q6G16) {  // the code's byte of q6_codes4 (4 x the code)
    const int half = e / 16, k = (e % 16) / 4;
    const uint32_t lo = reinterpret_cast<const uint32_t*>(p.codes + i * 16)[k];
    const uint32_t hb = reinterpret_cast<const uint32_t*>(p.hi + i * 8)[half];
    const auto code4 = static_cast<int8_t>(q6_codes4(lo, hb, k, half) >> (8 * (e % 4)));
    const uint16_t scale = reinterpret_cast<const uint16_t*>(p.headers + i * 4)[half];
    return half_bits(scale) * 0.25f * static_cast<float>(code4);
  }
  const uint8_t* codes = p.codes + i * code_bytes(t);
  if (t == DType::MXFP4) {
    const int code = e < 16 ? (codes[e] & 15) : (codes[e - 16] >> 4);
    const int8_t v = static_cast<int8_t>(mxfp4_lookup4(static_cast<uint32_t>(code)) & 0xffu);
    return mxfp4_scale_dev(p.headers[i]) * static_cast<float>(v);
  }
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
