// Matrix products with weights read once per column group: one block computes 4 weight rows for
// up to NC activation rows, its warps splitting each row's units (a 32-element quantized block or
// 8 float elements); fixed shuffle and cross-warp reductions. Bandwidth-bound decode path and
// the batch-invariant path for every n.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/act16.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/row_math.cuh"
#include "backend/cuda/kernels/rows_product.cuh"

namespace sluice::cuda {
namespace {

__device__ __forceinline__ float lo_half(uint32_t h) {
  return half_bits(static_cast<uint16_t>(h & 0xffffu));
}
__device__ __forceinline__ float hi_half(uint32_t h) {
  return half_bits(static_cast<uint16_t>(h >> 16));
}

// Each format: Unit (registers of one unit), load(planes, row, u), chunk(unit, sub, w[8]); the
// float ones (the products here read them; act16.cuh has the quantized ones) also at(codes,
// headers, i): unit i of arrays of kCodeBytes and kHeaderBytes per unit (the staged slots).
struct FmtQ4G32 {
  static constexpr int kElems = 32;
  struct Unit {
    uint32_t h;
    uint4 c;
  };
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    return Unit{__ldg(reinterpret_cast<const uint32_t*>(p.headers) + i),
                __ldg(reinterpret_cast<const uint4*>(p.codes) + i)};
  }
  // sub 0/1: low nibbles of bytes 0-7 / 8-15 (elements 0-15); sub 2/3: high nibbles (16-31).
  __device__ static void chunk(const Unit& b, int sub, float w[8]) {
    const float scale = lo_half(b.h), offset = hi_half(b.h);
    const int shift = sub >= 2 ? 4 : 0;
    const uint32_t w0 = (sub & 1) ? b.c.z : b.c.x, w1 = (sub & 1) ? b.c.w : b.c.y;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      w[e] = fmaf(scale, static_cast<float>((w0 >> (8 * e + shift)) & 15u), offset);
      w[e + 4] = fmaf(scale, static_cast<float>((w1 >> (8 * e + shift)) & 15u), offset);
    }
  }
};

__device__ __forceinline__ float sbyte(uint32_t word, int e) {
  return static_cast<float>(static_cast<int8_t>((word >> (8 * e)) & 0xffu));
}

// 32 signed byte codes as two 16-byte vectors: word k holds codes 4k .. 4k+3.
__device__ __forceinline__ uint32_t code_word(const uint4 (&c)[2], int k) {
  const uint4& v = c[k / 4];
  const int m = k % 4;
  return m == 0 ? v.x : m == 1 ? v.y : m == 2 ? v.z : v.w;
}

struct FmtQ8G32 {
  static constexpr int kElems = 32;
  struct Unit {
    uint32_t h;
    uint4 c[2];
  };
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    const uint4* c = reinterpret_cast<const uint4*>(p.codes) + 2 * i;
    return Unit{__ldg(reinterpret_cast<const uint32_t*>(p.headers) + i), {__ldg(c), __ldg(c + 1)}};
  }
  __device__ static void chunk(const Unit& b, int sub, float w[8]) {
    const float scale = lo_half(b.h), offset = hi_half(b.h);
    const uint32_t w0 = code_word(b.c, 2 * sub), w1 = code_word(b.c, 2 * sub + 1);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      w[e] = fmaf(scale, sbyte(w0, e), offset);
      w[e + 4] = fmaf(scale, sbyte(w1, e), offset);
    }
  }
};

struct FmtQ8G16 {
  static constexpr int kElems = 32;
  struct Unit {
    uint2 h;  // scales, offsets (two halves each)
    uint4 c[2];
  };
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const int64_t i = row * p.units + u;
    const uint4* c = reinterpret_cast<const uint4*>(p.codes) + 2 * i;
    return Unit{__ldg(reinterpret_cast<const uint2*>(p.headers) + i), {__ldg(c), __ldg(c + 1)}};
  }
  __device__ static void chunk(const Unit& b, int sub, float w[8]) {
    const bool g1 = sub >= 2;  // elements 16-31 use the second group
    const float scale = g1 ? hi_half(b.h.x) : lo_half(b.h.x);
    const float offset = g1 ? hi_half(b.h.y) : lo_half(b.h.y);
    const uint32_t w0 = code_word(b.c, 2 * sub), w1 = code_word(b.c, 2 * sub + 1);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      w[e] = fmaf(scale, sbyte(w0, e), offset);
      w[e + 4] = fmaf(scale, sbyte(w1, e), offset);
    }
  }
};

// The unit and its loads are act16.cuh's.
struct FmtMxfp4 : IntMxfp4 {
  static constexpr int kElems = 32;
  // As FmtQ4G32's subs: 0/1 low nibbles of bytes 0-7 / 8-15, 2/3 their high nibbles.
  __device__ static void chunk(const Unit& b, int sub, float w[8]) {
    const float scale = mxfp4_scale_dev(b.e);
    uint32_t lo0, hi0, lo1, hi1;
    mxfp4_word((sub & 1) ? b.c.z : b.c.x, lo0, hi0);
    mxfp4_word((sub & 1) ? b.c.w : b.c.y, lo1, hi1);
    const uint32_t w0 = sub >= 2 ? hi0 : lo0, w1 = sub >= 2 ? hi1 : lo1;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      w[e] = scale * sbyte(w0, e);
      w[e + 4] = scale * sbyte(w1, e);
    }
  }
};

// The unit and its loads are act16.cuh's. Subs as FmtQ4G32's; codes as q6_codes4's bytes, / 4.
struct FmtQ6G16 : IntQ6G16 {
  static constexpr int kElems = 32;
  __device__ static void chunk(const Unit& b, int sub, float w[8]) {
    const int half = sub >> 1, k0 = 2 * (sub & 1);
    const float scale = 0.25f * (half ? hi_half(b.h) : lo_half(b.h));
    const uint32_t lo[4] = {b.c.x, b.c.y, b.c.z, b.c.w};
    const uint32_t hw = half ? b.hb.y : b.hb.x;
    const uint32_t w0 = q6_codes4(lo[k0], hw, k0, half),
                   w1 = q6_codes4(lo[k0 + 1], hw, k0 + 1, half);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      w[e] = fmaf(scale, sbyte(w0, e), 0.0f);  // as FmtQ8G16's (offset 0): +0 for a 0 code
      w[e + 4] = fmaf(scale, sbyte(w1, e), 0.0f);
    }
  }
};

// 8 consecutive 16-bit floats (one 16-byte load); Bf selects bf16 over f16.
template <bool Bf>
struct Fmt16 {
  static constexpr int kElems = 8, kResidentBlocks = 4, kCodeBytes = 16, kHeaderBytes = 0;
  using Unit = uint4;
  __device__ static Unit at(const uint8_t* codes, const uint8_t*, int64_t i) {
    return reinterpret_cast<const uint4*>(codes)[i];
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    return __ldg(reinterpret_cast<const uint4*>(p.codes) + row * p.units + u);
  }
  __device__ static void chunk(const Unit& b, int, float w[8]) {
    const uint32_t words[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint16_t lo = static_cast<uint16_t>(words[i] & 0xffffu);
      const uint16_t hi = static_cast<uint16_t>(words[i] >> 16);
      w[2 * i] = Bf ? bf16_bits(lo) : half_bits(lo);
      w[2 * i + 1] = Bf ? bf16_bits(hi) : half_bits(hi);
    }
  }
};

struct FmtF32 {
  static constexpr int kElems = 8, kResidentBlocks = 1;  // 4 would spill
  static constexpr int kCodeBytes = 32, kHeaderBytes = 0;
  struct Unit {
    float4 a, b;
  };
  __device__ static Unit at(const uint8_t* codes, const uint8_t*, int64_t i) {
    const float4* f = reinterpret_cast<const float4*>(codes) + 2 * i;
    return Unit{f[0], f[1]};
  }
  __device__ static Unit load(const Planes& p, int64_t row, int64_t u) {
    const float4* f = reinterpret_cast<const float4*>(p.codes) + 2 * (row * p.units + u);
    return Unit{__ldg(f), __ldg(f + 1)};
  }
  __device__ static void chunk(const Unit& v, int, float w[8]) {
    w[0] = v.a.x, w[1] = v.a.y, w[2] = v.a.z, w[3] = v.a.w;
    w[4] = v.b.x, w[5] = v.b.y, w[6] = v.b.z, w[7] = v.b.w;
  }
};

// y[n, rows] of each segment: block (bx, by) computes kRows rows of the segment bx falls in,
// for columns [by*NC, by*NC + NC). Warp w of ks walks units w*32 + lane, + 32*ks, ...; the
// warps' partial sums are added in warp order through shared memory. Every block reads all of
// its x rows, so Norm folds an RMSNorm in: the sums take x * mode.norm and are scaled by the
// block's 1 / rms of each x row at the end. Staged: the weights come through `stages` shared-
// memory stages (walk_units_staged), same sums.
template <class F, int NC, bool Norm, bool Staged>
__global__ __launch_bounds__(kMaxSplit * 32,
                             (Staged ? kStagedMinBlocks<F, NC>
                                     : kMinBlocks<F, NC>)) void matmul_rows_kernel(const float* x,
                                                                                   int64_t n,
                                                                                   int64_t cols,
                                                                                   Segments segs,
                                                                                   RowsMode mode,
                                                                                   int stages) {
  extern __shared__ __align__(16) uint8_t staged[];
  __shared__ float part[kMaxSplit][kRows][NC];
  __shared__ float sq_part[kMaxSplit][NC];
  __shared__ float inv_row[NC];
  const Segment seg = segment_of(segs, blockIdx.x, kRows);
  const int64_t c0 = static_cast<int64_t>(blockIdx.y) * NC;
  const int nc = static_cast<int>(min(static_cast<int64_t>(NC), n - c0));
  const int nr = static_cast<int>(min(static_cast<int64_t>(kRows), seg.rows - seg.r0));
  float acc[kRows][NC] = {};
  float sq[NC] = {};  // Norm: this thread's sum of x^2 per x row
  auto body = [&](const auto& wu, int64_t u) {
#pragma unroll
    for (int sub = 0; sub < F::kElems / 8; ++sub) {
      const int64_t col = u * F::kElems + sub * 8;
      float xs[NC][8];
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        if (c < nc) {
          const float4* px = reinterpret_cast<const float4*>(x + (c0 + c) * cols + col);
          const float4 a = __ldg(px), b = __ldg(px + 1);
          xs[c][0] = a.x, xs[c][1] = a.y, xs[c][2] = a.z, xs[c][3] = a.w;
          xs[c][4] = b.x, xs[c][5] = b.y, xs[c][6] = b.z, xs[c][7] = b.w;
        }
      }
      if constexpr (Norm) {
        const float4* pg = reinterpret_cast<const float4*>(mode.norm + col);
        const float4 ga = __ldg(pg), gb = __ldg(pg + 1);
        const float g[8] = {ga.x, ga.y, ga.z, ga.w, gb.x, gb.y, gb.z, gb.w};
#pragma unroll
        for (int c = 0; c < NC; ++c)
#pragma unroll
          for (int e = 0; e < 8; ++e) {
            if (c < nc) sq[c] = fmaf(xs[c][e], xs[c][e], sq[c]);
            xs[c][e] *= g[e];
          }
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (r >= nr) continue;
        float wv[8];
        F::chunk(wu[r], sub, wv);
#pragma unroll
        for (int c = 0; c < NC; ++c)
#pragma unroll
          for (int e = 0; e < 8; ++e) acc[r][c] = fmaf(wv[e], xs[c][e], acc[r][c]);
      }
    }
  };
  if constexpr (Staged)
    walk_units_staged<F>(seg.w, seg.r0, nr, cols / F::kElems, staged, stages, body);
  else
    walk_units<F>(seg.w, seg.r0, nr, cols / F::kElems, body);
  const float* scale = nullptr;
  if constexpr (Norm) {  // the block's sum of x^2 per row, in a fixed order (lanes, then warps)
    const int lane = threadIdx.x & 31, warp = threadIdx.x / 32, ks = blockDim.x / 32;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      float v = sq[c];
      for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
      if (lane == 0) sq_part[warp][c] = v;
    }
    __syncthreads();
    if (threadIdx.x < NC) {
      float v = sq_part[0][threadIdx.x];
      for (int k = 1; k < ks; ++k) v += sq_part[k][threadIdx.x];
      inv_row[threadIdx.x] = inv_rms(v, cols, mode.eps);
    }
    scale = inv_row;  // read after store_row_sums' barrier
  }
  store_row_sums<NC>(acc, part, nr, nc, seg.y, seg.rows, seg.r0, c0, scale, mode.accumulate,
                     seg.bias);
}

// Any dtype and shape (cols not a multiple of 8): one warp per (row, column).
__global__ void matmul_generic_kernel(const float* x, int64_t n, int64_t cols, DType t, Planes w,
                                      int64_t rows, float* y) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (item >= n * rows) return;
  const int64_t c = item / rows, r = item % rows;
  float acc = 0.0f;
  for (int64_t j = threadIdx.x & 31; j < cols; j += 32)
    acc = fmaf(weight_element(t, w, cols, r, j), x[c * cols + j], acc);
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  if ((threadIdx.x & 31) == 0) y[c * rows + r] = acc;
}

template <class F, int NC, bool Norm, bool Staged>
void launch_rows_kernel(dim3 grid, int threads, int stages, cudaStream_t s, const float* x,
                        int64_t n, int64_t cols, const Segments& segs, const RowsMode& mode) {
  constexpr auto kernel = matmul_rows_kernel<F, NC, Norm, Staged>;
  const size_t smem = Staged ? stages * stage_bytes<F>(threads) : 0;
  if constexpr (Staged) allow_staged_smem<kernel>(stage_bytes<F>(kMaxSplit * 32) * kMaxRowsStages);
  launch_pdl_smem(kernel, grid, dim3(threads), smem, s, x, n, cols, segs, mode, stages);
}

template <class F, int NC>
void launch_rows(const float* x, int64_t n, const RowsProduct* ps, int count, const RowsMode& mode,
                 cudaStream_t s) {
  const Segments segs = make_segments(ps, count, F::kElems, kRows);
  if (segs.first_block[count] == 0) return;
  const dim3 grid(static_cast<unsigned>(segs.first_block[count]),
                  static_cast<unsigned>((n + NC - 1) / NC));
  const int64_t cols = ps[0].w->cols, units = cols / F::kElems;
  const int threads = split_warps(units) * 32;
  const int stages = stages_for(units, threads, mode.max_stages);
  const bool norm = mode.norm != nullptr;
  if (stages > 0 && norm)
    return launch_rows_kernel<F, NC, true, true>(grid, threads, stages, s, x, n, cols, segs, mode);
  if (stages > 0)
    return launch_rows_kernel<F, NC, false, true>(grid, threads, stages, s, x, n, cols, segs, mode);
  if (norm)
    return launch_rows_kernel<F, NC, true, false>(grid, threads, 0, s, x, n, cols, segs, mode);
  launch_rows_kernel<F, NC, false, false>(grid, threads, 0, s, x, n, cols, segs, mode);
}

template <class F>
void launch_rows_any_n(const float* x, int64_t n, const RowsProduct* ps, int count,
                       const RowsMode& mode, cudaStream_t s) {
  if (n == 1) return launch_rows<F, 1>(x, n, ps, count, mode, s);
  if (n == 2) return launch_rows<F, 2>(x, n, ps, count, mode, s);
  if (n <= 4) return launch_rows<F, 4>(x, n, ps, count, mode, s);
  launch_rows<F, 8>(x, n, ps, count, mode, s);
}

// One thread per unit: decodes it and writes its elements as f16, 8 at a time (16 bytes).
template <class F>
__global__ void dequantize_units_kernel(Planes w, int64_t rows, int64_t cols, __half* out) {
  const int64_t per_row = cols / F::kElems;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * per_row) return;
  const int64_t r = i / per_row, u = i % per_row;
  const typename F::Unit unit = F::load(w, r, u);
#pragma unroll
  for (int sub = 0; sub < F::kElems / 8; ++sub) {
    float v[8];
    F::chunk(unit, sub, v);
    __align__(16) __half2 h[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) h[e] = __floats2half2_rn(v[2 * e], v[2 * e + 1]);
    *reinterpret_cast<uint4*>(out + r * cols + u * F::kElems + sub * 8) =
        *reinterpret_cast<const uint4*>(h);
  }
}

template <class F>
void launch_dequantize(const Weight& w, __half* out, cudaStream_t s) {
  const int64_t units = w.rows * (w.cols / F::kElems);
  dequantize_units_kernel<F><<<static_cast<unsigned>((units + 255) / 256), 256, 0, s>>>(
      planes(w, F::kElems), w.rows, w.cols, out);
  SLUICE_CUDA_LAUNCHED();
}

// Any dtype and shape: one thread per element.
__global__ void dequantize_kernel(DType t, Planes w, int64_t rows, int64_t cols, __half* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * cols) return;
  out[i] = __float2half_rn(weight_element(t, w, cols, i / cols, i % cols));
}

__global__ void to_f16_kernel(const float* x, int64_t count, __half* out) {
  pdl_launch_dependents();  // qgemm follows
  pdl_wait();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = __float2half_rn(x[i]);
}

__global__ void to_bf16_kernel(const float* x, int64_t count, __nv_bfloat16* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = __float2bfloat16_rn(x[i]);
}

unsigned blocks256(int64_t count) {
  return static_cast<unsigned>((count + 255) / 256);
}

}  // namespace

bool rows_mode_supported(const Weight& w, const RowsMode& mode) {
  if (is_quantized(w.dtype)) return w.cols % kQuantBlock == 0;
  return (w.dtype == DType::F32 || w.dtype == DType::F16 || w.dtype == DType::BF16) &&
         w.cols % 8 == 0 && mode.up == nullptr;  // silu(x) * up would double every block's reads
}

size_t matmul_rows_scratch_bytes(int64_t n, const Weight& w) {
  return is_quantized(w.dtype) ? act16_scratch_bytes(n, w.cols) : 0;
}

void matmul_rows_many(const float* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                      cudaStream_t s, const RowsMode& mode) {
  const Weight& w = *ps[0].w;
  if (n <= 0 || count <= 0) return;
  const bool plain = mode.norm == nullptr && mode.up == nullptr && !mode.accumulate;
  SLUICE_ASSERT(plain || rows_mode_supported(w, mode), "matmul_rows_many: mode not supported");
  if (is_quantized(w.dtype)) return matmul_rows_act16(x, n, ps, count, scratch, s, mode);
  if (w.cols % 8 != 0) {
    for (int i = 0; i < count; ++i) {
      const Weight& wi = *ps[i].w;
      const int64_t items = n * wi.rows;
      matmul_generic_kernel<<<static_cast<unsigned>((items + 7) / 8), 256, 0, s>>>(
          x, n, wi.cols, wi.dtype, planes(wi, 1), wi.rows, ps[i].y);
      SLUICE_CUDA_LAUNCHED();
    }
    return;
  }
  switch (w.dtype) {
    case DType::F32:
      return launch_rows_any_n<FmtF32>(x, n, ps, count, mode, s);
    case DType::F16:
      return launch_rows_any_n<Fmt16<false>>(x, n, ps, count, mode, s);
    case DType::BF16:
      return launch_rows_any_n<Fmt16<true>>(x, n, ps, count, mode, s);
    default:
      return;  // quantized: above
  }
}

void dequantize_to_f16(const Weight& w, uint16_t* out, cudaStream_t s) {
  const int64_t count = w.rows * w.cols;
  if (count <= 0) return;
  __half* h = reinterpret_cast<__half*>(out);
  if (w.cols % 8 == 0) {
    switch (w.dtype) {
      case DType::Q4G32:
        return launch_dequantize<FmtQ4G32>(w, h, s);
      case DType::Q8G32:
        return launch_dequantize<FmtQ8G32>(w, h, s);
      case DType::Q8G16:
        return launch_dequantize<FmtQ8G16>(w, h, s);
      case DType::MXFP4:
        return launch_dequantize<FmtMxfp4>(w, h, s);
      case DType::Q6G16:
        return launch_dequantize<FmtQ6G16>(w, h, s);
      case DType::BF16:
        return launch_dequantize<Fmt16<true>>(w, h, s);
      default:
        break;
    }
  }
  dequantize_kernel<<<blocks256(count), 256, 0, s>>>(w.dtype, planes(w, 1), w.rows, w.cols,
                                                     reinterpret_cast<__half*>(out));
  SLUICE_CUDA_LAUNCHED();
}

void to_f16(const float* x, int64_t count, uint16_t* out, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(to_f16_kernel, dim3(blocks256(count)), dim3(256), s, x, count,
             reinterpret_cast<__half*>(out));
}

void to_bf16(const float* x, int64_t count, uint16_t* out, cudaStream_t s) {
  if (count <= 0) return;
  to_bf16_kernel<<<blocks256(count), 256, 0, s>>>(x, count, reinterpret_cast<__nv_bfloat16*>(out));
  SLUICE_CUDA_LAUNCHED();
}

}  // namespace sluice::cuda
