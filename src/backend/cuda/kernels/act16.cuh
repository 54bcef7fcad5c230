#pragma once
// Int16-quantized activations (the CPU backend's default precision) and the quantized weight
// formats' dot products with them: per 32-column block, sum(code * q) in integers with dp2a
// (two 16x8-bit products per instruction), then scale * d * isum + offset * d * sum(q).
// Used by the weight-streaming products (kernels_matmul_act16.cu).
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/q6_codes.h"
#include "common/assert.h"

namespace sluice::cuda {

// Per 32-column block of an activation row: x ~= d * q; sums of q scaled by d over the whole
// block and over each half (the offset terms of one- and two-group formats).
struct ActBlock {
  float d, sum, sum_lo, sum_hi;
};

// Called by all 32 lanes of a warp, lane j holding element j of one block: writes lane j's
// code to *code and the block's ActBlock (as ref::quantize_act_row), its scales times `scale`
// (the block stands for scale * v: a row factor such as an RMSNorm's, applied after).
__device__ __forceinline__ void quantize_act16_block(float v, int16_t* code, ActBlock* block,
                                                     float scale = 1.0f) {
  const int lane = threadIdx.x & 31;
  float amax = fabsf(v);
  for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  const float d = amax / 32767.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const int qi = __float2int_rn(v * id);
  *code = static_cast<int16_t>(qi);
  int lo = lane < 16 ? qi : 0, hi = lane < 16 ? 0 : qi;
  for (int o = 16; o > 0; o >>= 1) {
    lo += __shfl_xor_sync(0xffffffffu, lo, o);
    hi += __shfl_xor_sync(0xffffffffu, hi, o);
  }
  const float ds = d * scale;
  if (lane == 0)
    *block = ActBlock{ds, ds * static_cast<float>(lo + hi), ds * static_cast<float>(lo),
                      ds * static_cast<float>(hi)};
}

// Activation rows [n, cols] quantized: codes [n, cols] then blocks [n, cols / 32], in the
// act16_scratch_bytes(n, cols) at `scratch` (kernels_matmul_act16.cu; x may be RowsMode's
// gate, normed row or plain row).
struct Act16 {
  int16_t* codes;
  ActBlock* blocks;
};
Act16 quantize_act16(const float* x, int64_t n, int64_t cols, const RowsMode& mode, void* scratch,
                     cudaStream_t s);

// 32 activations of a block as 16 words of two int16 (word p: elements 2p, 2p+1).
struct Act32 {
  int w[16];
};
// Through the read-only path.
__device__ __forceinline__ Act32 load_act(const int16_t* q) {
  const uint4* p = reinterpret_cast<const uint4*>(q);
  Act32 a;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const uint4 v = __ldg(p + i);
    a.w[4 * i] = static_cast<int>(v.x), a.w[4 * i + 1] = static_cast<int>(v.y);
    a.w[4 * i + 2] = static_cast<int>(v.z), a.w[4 * i + 3] = static_cast<int>(v.w);
  }
  return a;
}

// sum over elements 4k .. 4k+3 of code * q, the four codes as the bytes of `codes`.
__device__ __forceinline__ int dot4(const Act32& a, int k, uint32_t codes, int acc) {
  acc = __dp2a_lo(a.w[2 * k], static_cast<int>(codes), acc);
  return __dp2a_hi(a.w[2 * k + 1], static_cast<int>(codes), acc);
}

// Each format: Unit; at(codes, headers, i) = unit i of a planar weight (dequant.cuh) by plain
// loads (global or shared memory); load(planes, row, u) through the read-only path; dot(unit,
// act, act block) = the block's product.
struct IntQ4G32 {
  static constexpr int kCodeBytes = 16, kHeaderBytes = 4;
  static constexpr int kResidentBlocks = 1;  // 4 (rows_product.cuh) spills; measured 1.5% slower
  struct Unit {
    uint32_t h;  // scale, offset
    uint4 c;     // byte i: element i (low nibble), element 16 + i (high nibble)
  };
  __device__ static Unit at(const uint8_t* codes, const uint8_t* headers, int64_t i) {
    return Unit{reinterpret_cast<const uint32_t*>(headers)[i],
                reinterpret_cast<const uint4*>(codes)[i]};
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    return Unit{__ldg(reinterpret_cast<const uint32_t*>(p.headers) + i),
                __ldg(reinterpret_cast<const uint4*>(p.codes) + i)};
  }
  __device__ static float dot(const Unit& b, const Act32& a, const ActBlock& ab) {
    const uint32_t c[4] = {b.c.x, b.c.y, b.c.z, b.c.w};
    int isum = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      isum = dot4(a, k, c[k] & 0x0F0F0F0Fu, isum);
      isum = dot4(a, 4 + k, (c[k] >> 4) & 0x0F0F0F0Fu, isum);
    }
    const float2 so = __half22float2(*reinterpret_cast<const __half2*>(&b.h));
    return so.x * ab.d * static_cast<float>(isum) + so.y * ab.sum;
  }
};

// MXFP4: Q4G32's nibbles through the E2M1 table (dequant.cuh's mxfp4_word), one power-of-two
// scale, no offset. Its 1-byte headers take no cp.async: the staged walk is not used for it.
struct IntMxfp4 {
  static constexpr int kCodeBytes = 16, kHeaderBytes = 1;
  static constexpr int kResidentBlocks = 1;
  struct Unit {
    uint32_t e;  // the exponent byte
    uint4 c;     // byte i: element i (low nibble), element 16 + i (high nibble)
  };
  __device__ static Unit at(const uint8_t* codes, const uint8_t* headers, int64_t i) {
    return Unit{headers[i], reinterpret_cast<const uint4*>(codes)[i]};
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    return Unit{__ldg(p.headers + i), __ldg(reinterpret_cast<const uint4*>(p.codes) + i)};
  }
  __device__ static float dot(const Unit& b, const Act32& a, const ActBlock& ab) {
    const uint32_t c[4] = {b.c.x, b.c.y, b.c.z, b.c.w};
    int isum = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      uint32_t lo, hi;
      mxfp4_word(c[k], lo, hi);
      isum = dot4(a, k, lo, isum);
      isum = dot4(a, 4 + k, hi, isum);
    }
    return mxfp4_scale_dev(b.e) * ab.d * static_cast<float>(isum);
  }
};

// A block of 32 signed byte codes (word k: elements 4k .. 4k+3) and its header H.
template <class H>
struct Int8Unit {
  H h;
  uint32_t c[8];
};
template <class H>
__device__ __forceinline__ Int8Unit<H> int8_at(const uint8_t* codes, const uint8_t* headers,
                                               int64_t i) {
  const uint4* v = reinterpret_cast<const uint4*>(codes) + 2 * i;
  const uint4 a = v[0], b = v[1];
  return Int8Unit<H>{reinterpret_cast<const H*>(headers)[i],
                     {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}};
}
template <class H>
__device__ __forceinline__ Int8Unit<H> load_int8(const Planes& p, int64_t row, int64_t u) {
  const int64_t i = row * p.units + u;
  const uint4* v = reinterpret_cast<const uint4*>(p.codes) + 2 * i;
  const uint4 a = __ldg(v), b = __ldg(v + 1);
  return Int8Unit<H>{__ldg(reinterpret_cast<const H*>(p.headers) + i),
                     {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}};
}

struct IntQ8G32 {
  static constexpr int kCodeBytes = 32, kHeaderBytes = 4;
  static constexpr int kResidentBlocks = 1;  // 4 would spill
  using Unit = Int8Unit<uint32_t>;           // header: scale, offset
  __device__ static Unit at(const uint8_t* codes, const uint8_t* headers, int64_t i) {
    return int8_at<uint32_t>(codes, headers, i);
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    return load_int8<uint32_t>(p, row, u);
  }
  __device__ static float dot(const Unit& b, const Act32& a, const ActBlock& ab) {
    int isum = 0;
#pragma unroll
    for (int k = 0; k < 8; ++k) isum = dot4(a, k, b.c[k], isum);
    const float2 so = __half22float2(*reinterpret_cast<const __half2*>(&b.h));
    return so.x * ab.d * static_cast<float>(isum) + so.y * ab.sum;
  }
};

struct IntQ8G16 {
  static constexpr int kCodeBytes = 32, kHeaderBytes = 8;
  static constexpr int kResidentBlocks = 1;  // 4 would spill
  using Unit = Int8Unit<uint2>;              // header: scales (two halves), offsets (two halves)
  __device__ static Unit at(const uint8_t* codes, const uint8_t* headers, int64_t i) {
    return int8_at<uint2>(codes, headers, i);
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    return load_int8<uint2>(p, row, u);
  }
  __device__ static float dot(const Unit& b, const Act32& a, const ActBlock& ab) {
    int lo = 0, hi = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      lo = dot4(a, k, b.c[k], lo);
      hi = dot4(a, 4 + k, b.c[4 + k], hi);
    }
    const float2 scale = __half22float2(*reinterpret_cast<const __half2*>(&b.h.x));
    const float2 offset = __half22float2(*reinterpret_cast<const __half2*>(&b.h.y));
    return ab.d * (scale.x * static_cast<float>(lo) + scale.y * static_cast<float>(hi)) +
           offset.x * ab.sum_lo + offset.y * ab.sum_hi;
  }
};

// Q6G16: two groups of 16 with a scale each, no offset; the codes from two planes (dequant.cuh).
// Its products are Q8G16's to the bit: each code read times 4, the sum times 1/4.
struct IntQ6G16 {
  static constexpr int kCodeBytes = 24, kHeaderBytes = 4;
  static constexpr int kResidentBlocks = 1;
  static constexpr bool kSplitCodes = true;  // not a unit's contiguous bytes: no staged walk
  struct Unit {
    uint32_t h;  // scales (two halves)
    uint4 c;     // low nibbles: byte i element i, high nibble element 16 + i
    uint2 hb;    // high bits: word g of group g (quant_blocks.h)
  };
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    return Unit{__ldg(reinterpret_cast<const uint32_t*>(p.headers) + i),
                __ldg(reinterpret_cast<const uint4*>(p.codes) + i),
                __ldg(reinterpret_cast<const uint2*>(p.hi) + i)};
  }
  __device__ static float dot(const Unit& b, const Act32& a, const ActBlock& ab) {
    const uint32_t c[4] = {b.c.x, b.c.y, b.c.z, b.c.w};
    int lo = 0, hi = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      lo = dot4(a, k, q6_codes4(c[k], b.hb.x, k, 0), lo);
      hi = dot4(a, 4 + k, q6_codes4(c[k], b.hb.y, k, 1), hi);
    }
    const float2 scale = __half22float2(*reinterpret_cast<const __half2*>(&b.h));
    return 0.25f * (ab.d * (scale.x * static_cast<float>(lo) + scale.y * static_cast<float>(hi)));
  }
};

// Formats whose units the staged walk (rows_product.cuh) copies: headers of 4 or 8 bytes (not
// MXFP4's one), codes in one plane.
template <class F>
constexpr bool kStageable = F::kHeaderBytes >= 4 && !requires {
  F::kSplitCodes;
};

// f(F{}) with F the format above of quantized dtype t (host side: picks a kernel template).
template <class Fn>
void with_act16_format(DType t, Fn&& f) {
  switch (t) {
    case DType::Q4G32:
      return f(IntQ4G32{});
    case DType::Q8G32:
      return f(IntQ8G32{});
    case DType::Q8G16:
      return f(IntQ8G16{});
    case DType::MXFP4:
      return f(IntMxfp4{});
    case DType::Q6G16:
      return f(IntQ6G16{});
    default:
      SLUICE_ASSERT(false, "int16-activation products take the quantized family");
  }
}

}  // namespace sluice::cuda
