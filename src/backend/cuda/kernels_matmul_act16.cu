// Quantized weights times int16-quantized activations (the CPU backend's default precision):
// per 32-column block, sum(code * q) in integers with dp2a (two 16x8-bit products per
// instruction), then y += scale * d * isum + offset * d * sum(q). Decoding each weight to float
// cost more ALU time than streaming it from memory; this path is bandwidth-bound.
#include <cuda_runtime.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dequant.cuh"
#include "backend/cuda/kernels.h"
#include "backend/cuda/rows_product.cuh"

namespace sluice::cuda {
namespace {

// Per 32-column block of an activation row: x ~= d * q; sums of q scaled by d over the whole
// block and over each half (the offset terms of one- and two-group formats).
struct ActBlock {
  float d, sum, sum_lo, sum_hi;
};

// One warp per (row, block): lane j quantizes element j.
__global__ void quantize_act16_kernel(const float* x, int64_t count_blocks, int16_t* q,
                                      ActBlock* blocks) {
  pdl_launch_dependents();  // the product after it may start streaming its weights
  pdl_wait();
  const int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (b >= count_blocks) return;
  const float v = x[b * 32 + lane];
  float amax = fabsf(v);
  for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  const float d = amax / 32767.0f;  // as ref::quantize_act_row
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const int qi = __float2int_rn(v * id);
  q[b * 32 + lane] = static_cast<int16_t>(qi);
  int lo = lane < 16 ? qi : 0, hi = lane < 16 ? 0 : qi;
  for (int o = 16; o > 0; o >>= 1) {
    lo += __shfl_xor_sync(0xffffffffu, lo, o);
    hi += __shfl_xor_sync(0xffffffffu, hi, o);
  }
  if (lane == 0)
    blocks[b] = ActBlock{d, d * static_cast<float>(lo + hi), d * static_cast<float>(lo),
                         d * static_cast<float>(hi)};
}

// 32 activations of a block as 16 words of two int16 (word p: elements 2p, 2p+1).
struct Act32 {
  int w[16];
};
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

// Each format: Unit, load(planes, row, u), dot(unit, act, act block) = the block's product.
struct IntQ4G32 {
  struct Unit {
    uint32_t h;  // scale, offset
    uint4 c;     // byte i: element i (low nibble), element 16 + i (high nibble)
  };
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

// A block of 32 signed byte codes (word k: elements 4k .. 4k+3) and its header H.
template <class H>
struct Int8Unit {
  H h;
  uint32_t c[8];
};
template <class H>
__device__ __forceinline__ Int8Unit<H> load_int8(const Planes& p, int64_t row, int64_t u) {
  const int64_t i = row * p.units + u;
  const uint4* v = reinterpret_cast<const uint4*>(p.codes) + 2 * i;
  const uint4 a = __ldg(v), b = __ldg(v + 1);
  return Int8Unit<H>{__ldg(reinterpret_cast<const H*>(p.headers) + i),
                     {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}};
}

struct IntQ8G32 {
  using Unit = Int8Unit<uint32_t>;  // header: scale, offset
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
  using Unit = Int8Unit<uint2>;  // header: scales (two halves), offsets (two halves)
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

// y[n, rows] of each segment: block (bx, by) computes kRows rows of the segment bx falls in,
// for activation rows [by*NC, +NC). Warp w of ks walks blocks w*32 + lane, + 32*ks, ...; the
// warps' partial sums are added in warp order through shared memory.
template <class F, int NC>
__global__ __launch_bounds__(kMaxSplit * 32) void matmul_act16_kernel(
    const int16_t* xq, const ActBlock* xb, int64_t n, Segments segs) {
  __shared__ float part[kMaxSplit][kRows][NC];
  const Segment seg = segment_of(segs, blockIdx.x, kRows);
  const int64_t c0 = static_cast<int64_t>(blockIdx.y) * NC;
  const int nc = static_cast<int>(min(static_cast<int64_t>(NC), n - c0));
  const int nr = static_cast<int>(min(static_cast<int64_t>(kRows), seg.rows - seg.r0));
  const int64_t units = seg.w.units;
  float acc[kRows][NC] = {};
  walk_units<F>(seg.w, seg.r0, nr, units, [&](const auto& wu, int64_t u) {
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      if (c >= nc) break;
      const int64_t blk = (c0 + c) * units + u;
      const Act32 a = load_act(xq + blk * 32);
      const ActBlock ab = xb[blk];
#pragma unroll
      for (int r = 0; r < kRows; ++r)
        if (r < nr) acc[r][c] += F::dot(wu[r], a, ab);
    }
  });
  store_row_sums<NC>(acc, part, nr, nc, seg.y, seg.rows, seg.r0, c0);
}

template <class F, int NC>
void launch(const int16_t* xq, const ActBlock* xb, int64_t n, const RowsProduct* ps, int count,
            cudaStream_t s) {
  const Segments segs = make_segments(ps, count, kQuantBlock, kRows);
  if (segs.first_block[count] == 0) return;
  const dim3 grid(static_cast<unsigned>(segs.first_block[count]),
                  static_cast<unsigned>((n + NC - 1) / NC));
  launch_pdl(matmul_act16_kernel<F, NC>, grid, dim3(split_warps(segs.w[0].units) * 32), s, xq,
             xb, n, segs);
}

template <class F>
void launch_any_n(const int16_t* xq, const ActBlock* xb, int64_t n, const RowsProduct* ps,
                  int count, cudaStream_t s) {
  if (n == 1) return launch<F, 1>(xq, xb, n, ps, count, s);
  if (n == 2) return launch<F, 2>(xq, xb, n, ps, count, s);
  if (n <= 4) return launch<F, 4>(xq, xb, n, ps, count, s);
  launch<F, 8>(xq, xb, n, ps, count, s);
}

}  // namespace

size_t act16_scratch_bytes(int64_t n, int64_t cols) {
  const int64_t blocks = n * (cols / kQuantBlock);
  return static_cast<size_t>(blocks) * (32 * sizeof(int16_t) + sizeof(ActBlock));
}

void matmul_rows_act16(const float* x, int64_t n, const RowsProduct* ps, int count,
                       void* scratch, cudaStream_t s) {
  const Weight& w = *ps[0].w;
  if (n <= 0) return;
  const int64_t blocks = n * (w.cols / kQuantBlock);
  int16_t* xq = static_cast<int16_t*>(scratch);                  // [n, cols]
  ActBlock* xb = reinterpret_cast<ActBlock*>(xq + blocks * 32);  // [n, cols / 32]
  launch_pdl(quantize_act16_kernel, dim3(static_cast<unsigned>((blocks * 32 + 255) / 256)),
             dim3(256), s, x, blocks, xq, xb);
  switch (w.dtype) {
    case DType::Q4G32: return launch_any_n<IntQ4G32>(xq, xb, n, ps, count, s);
    case DType::Q8G32: return launch_any_n<IntQ8G32>(xq, xb, n, ps, count, s);
    case DType::Q8G16: return launch_any_n<IntQ8G16>(xq, xb, n, ps, count, s);
    default: SLUICE_ASSERT(false, "matmul_rows_act16 takes quantized weights");
  }
}

}  // namespace sluice::cuda
