#pragma once
// The tile of the fused quantized GEMM (kernels_qgemm.cu, kernels_qgemm_experts.cu): quantized
// weights x f16 activations on tensor cores, the weights dequantized in registers.
//
// The weight is the M side of mma.sync m16n8k16 (Y^T = W X^T): a block takes 128 weight rows
// (4 warps x 32) and BN tokens, and walks K in stages of 64 columns (two 32-element units),
// kStages stages in flight through cp.async:
//
//   stage: codes [planes][128 rows][16 B]  headers [128 rows][words]  x [BN tokens][8 x 16 B]
//   warp w: rows 32w..32w+31 -> codes + headers -> 2 A fragments (f16, in registers)
//           every 8 tokens     -> ldmatrix from x (16-byte pieces swizzled by token & 7) -> B,
//                                 used by both A fragments (measured: +5-10% over 8 warps x 16)
//
// On sm_90a, 64-token tiles run as warpgroup MMAs instead (wgmma, asynchronous: a warp
// dequantizes the next unit while the tensor cores multiply the last): the 4 warps are one
// warpgroup, the x tile is read in place by descriptor (its swizzle is wgmma's 128-byte swizzle),
// and warp w holds rows 16w.. of each 64-row half.
#include <cuda_fp16.h>

#include <cstddef>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/kernels/q6_codes.h"
#include "backend/cuda/kernels/rows_product.cuh"
#include "backend/cuda/kernels/wgmma.cuh"

namespace sluice::cuda {
namespace {

constexpr int kBM = 128;       // weight rows per block
constexpr int kWarpTiles = 2;  // m-tiles (16 weight rows each) per warp
constexpr int kThreads = kBM / (16 * kWarpTiles) * 32;
constexpr int kStageCols = 64;  // two quantized units
constexpr int kStages = 4;      // shared-memory stage slots

// Per format: 16-byte code pieces per unit, 32-bit header words per unit. MXFP4's two exponent
// bytes of a stage (units 2k, 2k + 1 of a row: an even byte index, as cols % 64 == 0) lie in
// one aligned word, which the stage copies whole: its bytes 0-1 or 2-3 (mxfp4_half). Q6G16's
// stage adds a third piece: the two units' high bits (8 bytes each, from the high-bit plane).
template <DType T>
struct QLayout {
  static constexpr bool kMx = T == DType::MXFP4;
  static constexpr bool kSix = T == DType::Q6G16;
  static constexpr int kPieces = T == DType::Q4G32 || kMx || kSix ? 1 : 2;
  static constexpr int kHeaderWords = T == DType::Q8G16 ? 2 : 1;
  static constexpr int kPlanes = kPieces * 2 + (kSix ? 1 : 0);  // per stage
  static constexpr int kRowWords = kMx ? 1 : kHeaderWords * 2;  // header words of a row per stage
};

// Which half of the copied word holds MXFP4 exponents of stage k for weight row r (the
// segment's rows of `units` units, an even count): unit index r * units + 2k, in 16-bit
// halves, mod 2 = (r * units/2 + k) mod 2.
__device__ __forceinline__ uint32_t mxfp4_half(int64_t r, int64_t units, int64_t k) {
  const uint32_t row_part = static_cast<uint32_t>(r) & static_cast<uint32_t>(units >> 1);
  return (row_part ^ static_cast<uint32_t>(k)) & 1u;
}

template <DType T, int BN>
struct QgemmSmem {
  using L = QLayout<T>;
  uint4 codes[kStages][L::kPlanes][kBM];
  uint32_t headers[kStages][kBM][L::kRowWords];
  uint4 x[kStages][BN][8];  // each stage 1024-aligned (wgmma's swizzle atoms)
};
template <DType T, int BN>
constexpr bool x_tiles_aligned() {
  using S = QgemmSmem<T, BN>;
  return offsetof(S, x) % 1024 == 0 && BN * 8 * sizeof(uint4) % 1024 == 0;
}

struct QgemmArgs {
  const __half* x;  // [n, cols]
  int64_t n, cols;
  Segments segs;   // y of each: [n, rows]
  float* partial;  // [splits, n, total rows] when the splits are summed in global memory
  int64_t stages_per_split;
};

// Starts the copies of K stage `k` (columns 64k .. 64k+63) into shared stage `s`; the weights'
// codes with an L2 prefetch of P bytes (0: none).
template <int P = 0, DType T, int BN>
__device__ __forceinline__ void load_stage(QgemmSmem<T, BN>& sm, const QgemmArgs& a,
                                           const Segment& seg, int64_t t0, int64_t k, int s) {
  using L = QLayout<T>;
  const int tid = threadIdx.x;
  const int64_t u0 = 2 * k;  // first unit of the stage
  constexpr int64_t kCodeBytes = 16 * L::kPieces, kHeaderBytes = 4 * L::kHeaderWords;
  // Codes: consecutive threads take consecutive pieces of a row (contiguous in memory).
  for (int i = tid; i < kBM * L::kPlanes; i += kThreads) {
    const int row = i / L::kPlanes, plane = i % L::kPlanes;
    const int64_t r = seg.r0 + row;
    const bool ok = r < seg.rows;
    const int64_t unit = (ok ? r : 0) * seg.w.units + u0;
    const uint8_t* src =
        L::kSix && plane == 2 ? seg.w.hi + unit * 8 : seg.w.codes + unit * kCodeBytes + plane * 16;
    cp_async16_l2<P>(&sm.codes[s][plane][row], src, ok ? 16 : 0);
  }
  for (int row = tid; row < kBM; row += kThreads) {
    const int64_t r = seg.r0 + row;
    const bool ok = r < seg.rows;
    const int64_t unit = (ok ? r : 0) * seg.w.units + u0;
    const uint8_t* src = seg.w.headers + (L::kMx ? unit / 4 * 4 : unit * kHeaderBytes);
    if constexpr (L::kMx) {
      // The exponents' last word may pass their end (rows x units bytes): then its first half
      // (this unit's two, unit % 4 == 0) alone, stored before the stage's barrier.
      if (unit / 4 * 4 + 4 <= seg.rows * seg.w.units)
        cp_async4(&sm.headers[s][row][0], src);
      else
        sm.headers[s][row][0] = *reinterpret_cast<const uint16_t*>(src);
    } else if constexpr (L::kRowWords == 2)
      cp_async8(&sm.headers[s][row][0], src, ok ? 8 : 0);
    else
      cp_async16(&sm.headers[s][row][0], src, ok ? 16 : 0);
  }
  for (int i = tid; i < BN * 8; i += kThreads) {
    const int tok = i / 8, piece = i % 8;
    const int64_t t = t0 + tok;
    const bool ok = t < a.n;
    const __half* src = a.x + (ok ? t : 0) * a.cols + k * kStageCols + piece * 8;
    cp_async16(&sm.x[s][tok][piece ^ (tok & 7)], src, ok ? 16 : 0);
  }
}

// Two codes (bytes 2t, 2t+1 of a 16-byte piece) spread to the low bytes of two 16-bit lanes.
__device__ __forceinline__ uint32_t code_pair(const uint4& piece, int word, int t) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(&piece);
  return __byte_perm(w[word + (t >> 1)], 0u, (t & 1) ? 0x4342u : 0x4140u);
}

__device__ __forceinline__ uint32_t as_u32(__half2 h) {
  return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ __half2 as_half2(uint32_t u) {
  return *reinterpret_cast<const __half2*>(&u);
}

// (1024 + c) as f16 bit patterns -> scale * c + offset, two lanes at a time.
__device__ __forceinline__ uint32_t dequant2(uint32_t biased, __half2 bias, __half2 scale,
                                             __half2 offset) {
  return as_u32(__hfma2(__hsub2(as_half2(biased), bias), scale, offset));
}

// First weight row of m-tile mt of `warp` within the block: 32 consecutive rows per warp for
// mma.sync, 16 rows per warp in each 64-row half for wgmma (its warpgroup layout).
template <bool Wg>
__device__ __forceinline__ int tile_row0(int warp, int mt) {
  return Wg ? mt * 64 + warp * 16 : (warp * kWarpTiles + mt) * 16;
}

// MXFP4 codes of bytes 2t, 2t+1 of a 16-byte piece -> the doubled E2M1 values as f16 pairs:
// lo of the low nibbles, hi of the high ones. An f16 of 0, 1, 2, 3, 4, 6, 8 or 12 has a zero low
// byte: one prmt puts the magnitudes' high bytes (selected by the nibbles' low 3 bits at
// selector nibbles 1 and 3) in bytes 1 and 3, another the nibbles' sign bits at bits 15, 31.
__device__ __forceinline__ void mxfp4_halves(const uint4& piece, int word, int t, uint32_t& lo,
                                             uint32_t& hi) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(&piece);
  const uint32_t v = w[word + (t >> 1)] >> ((t & 1) * 16);     // nibbles lo0 hi0 lo1 hi1
  constexpr uint32_t kLow = 0x42403C00u, kHigh = 0x4A484644u;  // f16 high bytes of the values
  const uint32_t vl = v << 4;                                  // lo0, lo1 to nibbles 1, 3
  lo = prmt(kLow, kHigh, vl & 0x7070u) | prmt(vl & 0x8080u, 0u, 0x1404u);
  hi = prmt(kLow, kHigh, v & 0x7070u) | prmt(v & 0x8080u, 0u, 0x1404u);
}

// A fragments of k slices 0 (unit elements 0-15) and 1 (16-31) of unit uu of K stage k for
// rows (m + g, m + g + 8) of the block at seg: a[0] row g cols 2t.., a[1] row g+8, a[2] row g
// cols 2t+8.., a[3] row g+8.
template <DType T, int BN>
__device__ __forceinline__ void weight_fragments(const QgemmSmem<T, BN>& sm, int s, int uu, int m,
                                                 int g, int t, const Segment& seg, int64_t k,
                                                 uint32_t (&a0)[4], uint32_t (&a1)[4]) {
  using L = QLayout<T>;
  const int rows[2] = {m + g, m + g + 8};
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = rows[h];
    const uint32_t* hw = &sm.headers[s][row][L::kMx ? 0 : uu * L::kHeaderWords];
    if constexpr (L::kMx) {
      // the exponent byte -> 2^(e - 128) as a float (0 for e < 2), rounded to a half (e <= 143
      // at load; 0 below 2^-25)
      const uint32_t half = mxfp4_half(seg.r0 + row, seg.w.units, k);
      const uint32_t e = (hw[0] >> (16 * half + 8 * uu)) & 0xffu;
      const __half2 scale = __float2half2_rn(mxfp4_scale_dev(e));
      const uint4& p = sm.codes[s][uu][row];
      uint32_t lo0, hi0, lo1, hi1;
      mxfp4_halves(p, 0, t, lo0, hi0);  // elements 2t, 2t+1 and 16 + 2t, 17 + 2t
      mxfp4_halves(p, 2, t, lo1, hi1);  // elements 8 + 2t, 9 + 2t and 24 + 2t, 25 + 2t
      a0[h] = as_u32(__hmul2(as_half2(lo0), scale));
      a0[h + 2] = as_u32(__hmul2(as_half2(lo1), scale));
      a1[h] = as_u32(__hmul2(as_half2(hi0), scale));
      a1[h + 2] = as_u32(__hmul2(as_half2(hi1), scale));
    } else if constexpr (T == DType::Q4G32) {
      // element e < 16: low nibble of byte e; e >= 16: high nibble of byte e - 16
      const __half2 so = as_half2(hw[0]);
      const __half2 scale = __low2half2(so), offset = __high2half2(so);
      const __half2 bias = __float2half2_rn(1024.0f);
      const uint4& p = sm.codes[s][uu][row];
      const uint32_t c0 = code_pair(p, 0, t), c1 = code_pair(p, 2, t);
      a0[h] = dequant2((c0 & 0x000F000Fu) | 0x64006400u, bias, scale, offset);
      a0[h + 2] = dequant2((c1 & 0x000F000Fu) | 0x64006400u, bias, scale, offset);
      a1[h] = dequant2(((c0 >> 4) & 0x000F000Fu) | 0x64006400u, bias, scale, offset);
      a1[h + 2] = dequant2(((c1 >> 4) & 0x000F000Fu) | 0x64006400u, bias, scale, offset);
    } else if constexpr (L::kSix) {
      const __half2 sc = as_half2(hw[0]);
      const __half2 scale0 = __low2half2(sc), scale1 = __high2half2(sc);
      const __half2 bias = __float2half2_rn(1056.0f), zero = __float2half2_rn(0.0f);
      const uint4& p = sm.codes[s][uu][row];
      const uint32_t* hb = reinterpret_cast<const uint32_t*>(&sm.codes[s][2][row]) + 2 * uu;
      const uint32_t c0 = code_pair(p, 0, t), c1 = code_pair(p, 2, t);
      a0[h] = dequant2(q6_pair(c0, hb[0], t, 0, 0), bias, scale0, zero);
      a0[h + 2] = dequant2(q6_pair(c1, hb[0], t, 1, 0), bias, scale0, zero);
      a1[h] = dequant2(q6_pair(c0, hb[1], t, 0, 1), bias, scale1, zero);
      a1[h + 2] = dequant2(q6_pair(c1, hb[1], t, 1, 1), bias, scale1, zero);
    } else {
      // signed bytes: (b ^ 0x80) | 0x6400 is 1024 + 128 + b as f16
      __half2 scale0, offset0, scale1, offset1;
      if constexpr (T == DType::Q8G32) {
        const __half2 so = as_half2(hw[0]);
        scale0 = scale1 = __low2half2(so);
        offset0 = offset1 = __high2half2(so);
      } else {  // Q8G16: word 0 the two groups' scales, word 1 their offsets
        const __half2 sc = as_half2(hw[0]), of = as_half2(hw[1]);
        scale0 = __low2half2(sc), scale1 = __high2half2(sc);
        offset0 = __low2half2(of), offset1 = __high2half2(of);
      }
      const __half2 bias = __float2half2_rn(1152.0f);
      const uint4& p0 = sm.codes[s][2 * uu][row];      // bytes 0-15
      const uint4& p1 = sm.codes[s][2 * uu + 1][row];  // bytes 16-31
      const uint32_t flip = 0x00800080u, magic = 0x64006400u;
      a0[h] = dequant2((code_pair(p0, 0, t) ^ flip) | magic, bias, scale0, offset0);
      a0[h + 2] = dequant2((code_pair(p0, 2, t) ^ flip) | magic, bias, scale0, offset0);
      a1[h] = dequant2((code_pair(p1, 0, t) ^ flip) | magic, bias, scale1, offset1);
      a1[h + 2] = dequant2((code_pair(p1, 2, t) ^ flip) | magic, bias, scale1, offset1);
    }
  }
}

// K stages [k0, k0 + num) of the tile through mma.sync, kStages - 1 ahead in flight; the
// weights' copies with an L2 prefetch of P bytes (0: none).
template <int P = 0, DType T, int BN>
__device__ __forceinline__ void mainloop_mma(QgemmSmem<T, BN>& sm, const QgemmArgs& a,
                                             const Segment& seg, int64_t t0, int64_t k0,
                                             int64_t num, float (&acc)[kWarpTiles][BN / 8][4]) {
  constexpr int MT = kWarpTiles, kAhead = kStages - 1;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int s = 0; s < kAhead; ++s) {
    if (s < num) load_stage<P>(sm, a, seg, t0, k0 + s, s);
    cp_async_commit();
  }
  for (int64_t i = 0; i < num; ++i) {
    cp_async_wait<kAhead - 1>();
    __syncthreads();  // stage i landed for all threads; stage i - 1 is free again
    const int64_t next = i + kAhead;
    if (next < num) load_stage<P>(sm, a, seg, t0, k0 + next, static_cast<int>(next % kStages));
    cp_async_commit();
    const int s = static_cast<int>(i % kStages);
#pragma unroll
    for (int uu = 0; uu < 2; ++uu) {
      uint32_t a0[MT][4], a1[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        weight_fragments(sm, s, uu, tile_row0<false>(warp, mt), g, t, seg, k0 + i, a0[mt], a1[mt]);
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt) {
        const int tok = nt * 8 + (lane & 7), piece = uu * 4 + (lane >> 3);
        uint32_t b[4];
        ldmatrix_x4(b, &sm.x[s][tok][piece ^ (tok & 7)]);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_16816(acc[mt][nt], a0[mt], b[0], b[1]);
          mma_16816(acc[mt][nt], a1[mt], b[2], b[3]);
        }
      }
    }
  }
  cp_async_wait<0>();
}

// The same stages through wgmma. One commit group per unit (its two k16 steps for both 64-row
// halves); a unit's A registers are rewritten only once a wait retired the group that read them,
// and a stage is overwritten only once every warp retired its groups: kStages - 2 ahead
// (measured: 5 slots with 3 ahead was slower than 4 with 2).
template <DType T, int BN>
__device__ __forceinline__ void mainloop_wgmma(QgemmSmem<T, BN>& sm, const QgemmArgs& a,
                                               const Segment& seg, int64_t t0, int64_t k0,
                                               int64_t num, float (&acc)[kWarpTiles][BN / 8][4]) {
#if SLUICE_WGMMA
  constexpr int MT = kWarpTiles, kAhead = kStages - 2;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  if (num <= 0) {  // an empty split (not planned, but its sums are zeros)
    for (auto& m : acc)
      for (auto& n : m)
        for (float& v : n) v = 0.0f;
    return;
  }
#pragma unroll
  for (int s = 0; s < kAhead; ++s) {
    if (s < num) load_stage(sm, a, seg, t0, k0 + s, s);
    cp_async_commit();
  }
  uint32_t frag[2][MT][2][4] = {};  // [unit][m-half][k16 step][A fragment]
  for (int64_t i = 0; i < num; ++i) {
    cp_async_wait<kAhead - 1>();
    __syncthreads();  // stage i landed for all threads; every warp retired stage i - 2
    const int64_t next = i + kAhead;
    if (next < num) load_stage(sm, a, seg, t0, k0 + next, static_cast<int>(next % kStages));
    cp_async_commit();
    const int s = static_cast<int>(i % kStages);
    const uint64_t desc = sw128_desc(&sm.x[s][0][0]);
#pragma unroll
    for (int uu = 0; uu < 2; ++uu) {
      wgmma_wait<1>();  // the group that read frag[uu] (two groups back) is done
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int r = 0; r < 4; ++r) wgmma_hold(frag[uu][mt][0][r]), wgmma_hold(frag[uu][mt][1][r]);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        weight_fragments<T, BN>(sm, s, uu, tile_row0<true>(warp, mt), g, t, seg, k0 + i,
                                frag[uu][mt][0], frag[uu][mt][1]);
      wgmma_fence();
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int kk = 0; kk < 2; ++kk)  // k16 step 2uu + kk: 32 bytes into the swizzled rows
          wgmma_f16<BN>(&acc[mt][0][0], frag[uu][mt][kk], desc + 2 * (2 * uu + kk),
                        i > 0 || uu > 0 || kk > 0);  // the first step writes D = A . B
      wgmma_commit();
    }
  }
  wgmma_wait<0>();
  cp_async_wait<0>();
#else
  __trap();  // the host picks wgmma only where the sm_90a code runs
#endif
}

// `Kernel`, its dynamic shared memory limit raised to `smem` and clusters past the portable 8
// allowed, on first use.
template <auto Kernel>
auto configured(size_t smem) {
  static const bool done = [smem] {
    SLUICE_CUDA_CHECK(cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(smem)));
    SLUICE_CUDA_CHECK(
        cudaFuncSetAttribute(Kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
    return true;
  }();
  (void)done;
  return Kernel;
}

}  // namespace
}  // namespace sluice::cuda
