// Quantized weights x f16 activations on tensor cores, the weights dequantized in registers (no
// f16 copy of the weight is written): y[n, rows] = x[n, cols] . W^T for batched products.
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
// Several weights of one dtype and column count (q/k/v, gate/up) share a launch: their blocks of
// rows are laid end to end over grid.y (rows_product.cuh's segments).
// On sm_90a, 64-token tiles run as warpgroup MMAs instead (wgmma, asynchronous: a warp
// dequantizes the next unit while the tensor cores multiply the last): the 4 warps are one
// warpgroup, the x tile is read in place by descriptor (its swizzle is wgmma's 128-byte swizzle),
// and warp w holds rows 16w.. of each 64-row half. Few blocks and long K: K is split over grid.z
// and the partial sums are added in split order, through distributed shared memory when the splits
// of a tile form a thread-block cluster (sm_90), else through a global scratch buffer and a second
// kernel. With clusters the split count is planned per launch from the occupancy API: the fewest
// waves of resident clusters times the stages each block walks (up to 16 splits on the H100).
#include <cooperative_groups.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstddef>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/kernels/rows_product.cuh"
#include "backend/cuda/kernels/wgmma.cuh"

namespace sluice::cuda {
namespace {

constexpr int kBM = 128;       // weight rows per block
constexpr int kWarpTiles = 2;  // m-tiles (16 weight rows each) per warp
constexpr int kThreads = kBM / (16 * kWarpTiles) * 32;
constexpr int kStageCols = 64;  // two quantized units
constexpr int kStages = 4;      // shared-memory stage slots
constexpr int kMinStagesPerSplit = 4;
constexpr int kMaxSplits = 16;  // a cluster: 8 portable, 16 allowed on the H100 (non-portable)
constexpr int kPortableSplits = 8;
constexpr int kSplitOverhead = 2;    // stages' worth of a block's pipeline fill and split sum
constexpr int kRedStride = kBM + 4;  // floats per token of the reduction tile (no bank conflicts)

// Per format: 16-byte code pieces per unit, 32-bit header words per unit.
template <DType T>
struct QLayout {
  static constexpr int kPieces = T == DType::Q4G32 ? 1 : 2;
  static constexpr int kHeaderWords = T == DType::Q8G16 ? 2 : 1;
  static constexpr int kPlanes = kPieces * 2;         // per stage
  static constexpr int kRowWords = kHeaderWords * 2;  // header words of a row per stage
};

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

// Starts the copies of K stage `k` (columns 64k .. 64k+63) into shared stage `s`.
template <DType T, int BN>
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
    const uint8_t* src = seg.w.codes + ((ok ? r : 0) * seg.w.units + u0) * kCodeBytes + plane * 16;
    cp_async16(&sm.codes[s][plane][row], src, ok ? 16 : 0);
  }
  for (int row = tid; row < kBM; row += kThreads) {
    const int64_t r = seg.r0 + row;
    const bool ok = r < seg.rows;
    const uint8_t* src = seg.w.headers + ((ok ? r : 0) * seg.w.units + u0) * kHeaderBytes;
    if constexpr (L::kRowWords == 2)
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

// A fragments of k slices 0 (unit elements 0-15) and 1 (16-31) of unit uu for rows
// (m + g, m + g + 8): a[0] row g cols 2t.., a[1] row g+8, a[2] row g cols 2t+8.., a[3] row g+8.
template <DType T, int BN>
__device__ __forceinline__ void weight_fragments(const QgemmSmem<T, BN>& sm, int s, int uu, int m,
                                                 int g, int t, uint32_t (&a0)[4],
                                                 uint32_t (&a1)[4]) {
  using L = QLayout<T>;
  const int rows[2] = {m + g, m + g + 8};
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = rows[h];
    const uint32_t* hw = &sm.headers[s][row][uu * L::kHeaderWords];
    if constexpr (T == DType::Q4G32) {
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

namespace cg = cooperative_groups;

// The splits of one tile, each block's partial sums in its shared memory: block `rank` of the
// cluster adds its share of the tile's elements over all ranks, in rank order, and stores them.
template <int BN>
__device__ __forceinline__ void cluster_sum_store(float* red, int splits, const Segment& seg,
                                                  int64_t t0, int64_t n) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cg::cluster_group cluster = cg::this_cluster();
  cluster.sync();  // every rank's partial tile is in its shared memory
  const int rank = static_cast<int>(cluster.block_rank());
  constexpr int kElems = BN * kBM;
  const int per = (kElems + splits - 1) / splits;
  const int e1 = min(kElems, (rank + 1) * per);
  for (int e = rank * per + static_cast<int>(threadIdx.x); e < e1; e += kThreads) {
    const int tok = e / kBM, row = e % kBM;
    const int64_t r = seg.r0 + row;
    if (t0 + tok >= n || r >= seg.rows) continue;
    float v[kMaxSplits];
#pragma unroll
    for (int z = 0; z < kMaxSplits; ++z)
      if (z < splits) v[z] = *cluster.map_shared_rank(red + tok * kRedStride + row, z);
    float sum = 0.0f;
#pragma unroll
    for (int z = 0; z < kMaxSplits; ++z)
      if (z < splits) sum += v[z];
    seg.y[(t0 + tok) * seg.rows + r] = sum;
  }
  cluster.sync();  // no block leaves while another still reads its shared memory
#endif
}

// K stages [k0, k0 + num) of the tile through mma.sync, kStages - 1 ahead in flight.
template <DType T, int BN>
__device__ __forceinline__ void mainloop_mma(QgemmSmem<T, BN>& sm, const QgemmArgs& a,
                                             const Segment& seg, int64_t t0, int64_t k0,
                                             int64_t num, float (&acc)[kWarpTiles][BN / 8][4]) {
  constexpr int MT = kWarpTiles, kAhead = kStages - 1;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int s = 0; s < kAhead; ++s) {
    if (s < num) load_stage<T, BN>(sm, a, seg, t0, k0 + s, s);
    cp_async_commit();
  }
  for (int64_t i = 0; i < num; ++i) {
    cp_async_wait<kAhead - 1>();
    __syncthreads();  // stage i landed for all threads; stage i - 1 is free again
    const int64_t next = i + kAhead;
    if (next < num) load_stage<T, BN>(sm, a, seg, t0, k0 + next, static_cast<int>(next % kStages));
    cp_async_commit();
    const int s = static_cast<int>(i % kStages);
#pragma unroll
    for (int uu = 0; uu < 2; ++uu) {
      uint32_t a0[MT][4], a1[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        weight_fragments<T, BN>(sm, s, uu, tile_row0<false>(warp, mt), g, t, a0[mt], a1[mt]);
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
    if (s < num) load_stage<T, BN>(sm, a, seg, t0, k0 + s, s);
    cp_async_commit();
  }
  uint32_t frag[2][MT][2][4] = {};  // [unit][m-half][k16 step][A fragment]
  for (int64_t i = 0; i < num; ++i) {
    cp_async_wait<kAhead - 1>();
    __syncthreads();  // stage i landed for all threads; every warp retired stage i - 2
    const int64_t next = i + kAhead;
    if (next < num) load_stage<T, BN>(sm, a, seg, t0, k0 + next, static_cast<int>(next % kStages));
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
        weight_fragments<T, BN>(sm, s, uu, tile_row0<true>(warp, mt), g, t, frag[uu][mt][0],
                                frag[uu][mt][1]);
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

// grid: (token tiles, row blocks of all segments, K splits); kThreads threads; QgemmSmem<T, BN>
// dynamic. Cluster: the splits of a tile form one cluster (1, 1, splits) and sum through
// distributed shared memory; otherwise split z writes a.partial[z] (one segment per launch).
template <DType T, int BN, bool Cluster, bool Wg>
__global__ __launch_bounds__(kThreads) void qgemm_kernel(QgemmArgs a) {
  constexpr int MT = kWarpTiles;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  auto& sm = *reinterpret_cast<QgemmSmem<T, BN>*>(smem_raw);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane >> 2, t = lane & 3;
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * BN;
  const Segment seg = segment_of(a.segs, blockIdx.y, kBM);
  const int64_t total = a.cols / kStageCols;
  const int64_t k0 = blockIdx.z * a.stages_per_split;
  const int64_t k1 = min(total, k0 + a.stages_per_split);

  float acc[MT][BN / 8][4];  // wgmma: its first step writes without reading
  pdl_wait();                // every stage holds activations the kernel before wrote
  if constexpr (Wg) {
    mainloop_wgmma<T, BN>(sm, a, seg, t0, k0, k1 - k0, acc);
  } else {
    for (auto& m : acc)
      for (auto& n : m)
        for (float& v : n) v = 0.0f;
    mainloop_mma<T, BN>(sm, a, seg, t0, k0, k1 - k0, acc);
  }
  pdl_launch_dependents();

  // acc[mt][nt]: {row g, tokens 2t, 2t+1}, {row g + 8, tokens 2t, 2t+1} of tiles mt, nt.
  if constexpr (Cluster) {
    static_assert(sizeof(float) * BN * kRedStride <= sizeof(QgemmSmem<T, BN>),
                  "the reduction tile reuses the stage buffers");
    float* red = reinterpret_cast<float*>(smem_raw);  // [BN tokens][kRedStride]
    __syncthreads();                                  // every warp is done with the stage buffers
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = tile_row0<Wg>(warp, mt) + g + (e >= 2 ? 8 : 0);
          red[(nt * 8 + 2 * t + (e & 1)) * kRedStride + row] = acc[mt][nt][e];
        }
    cluster_sum_store<BN>(red, static_cast<int>(gridDim.z), seg, t0, a.n);
    return;
  }
  float* y = gridDim.z > 1 ? a.partial + static_cast<int64_t>(blockIdx.z) * a.n * seg.rows : seg.y;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
    const int64_t rg = seg.r0 + tile_row0<Wg>(warp, mt) + g;
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t tok = t0 + nt * 8 + 2 * t + (e & 1);
        const int64_t r = rg + (e >= 2 ? 8 : 0);
        if (tok < a.n && r < seg.rows) y[tok * seg.rows + r] = acc[mt][nt][e];
      }
    }
  }
}

// y[i] = sum over splits of partial[z][i], in split order.
__global__ void sum_splits_kernel(const float* partial, int64_t count, int splits, float* y) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  float s = 0.0f;
  for (int z = 0; z < splits; ++z) s += partial[z * count + i];
  y[i] = s;
}

// Split sums through clusters: on sm_90 and later unless the options turn them off (A/B).
bool cluster_sums(const QgemmOptions& o) {
  static const bool device_has_clusters = [] {
    int dev = 0, major = 0;
    SLUICE_CUDA_CHECK(cudaGetDevice(&dev));
    SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    return major >= 9;
  }();
  return device_has_clusters && o.cluster;
}

// Tokens per block (the kernel's BN) for n activation rows.
int tile_tokens(int64_t n) {
  return n <= 16 ? 16 : n <= 32 ? 32 : 64;
}

// Token tiles x row blocks of a launch over products ps[0 .. count).
int64_t launch_blocks(int64_t n, const RowsProduct* ps, int count) {
  const int64_t bn = tile_tokens(n);
  int64_t row_blocks = 0;
  for (int i = 0; i < count; ++i) row_blocks += (ps[i].w->rows + kBM - 1) / kBM;
  return (n + bn - 1) / bn * row_blocks;
}

// K splits of one product's launch (`blocks` tiles) when its splits are summed in global memory,
// or without the wave plan (QgemmOptions): about two blocks per SM, at most a portable cluster.
int plan_splits(int64_t blocks, int64_t stages) {
  const int64_t want = (2 * sm_count() + blocks - 1) / blocks;
  return static_cast<int>(
      std::clamp<int64_t>(std::min(want, stages / kMinStagesPerSplit), 1, kPortableSplits));
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

using QgemmKernel = void (*)(QgemmArgs);

// The kernel for a launch: split sums in clusters or not, warpgroup MMAs or mma.sync.
template <DType T, int BN>
QgemmKernel pick_kernel(bool cluster, bool wg) {
  const size_t smem = sizeof(QgemmSmem<T, BN>);
  // Warpgroup MMAs for 64-token tiles only: at 16 and 32 tokens they measured 0-20% slower than
  // mma.sync on the Llama-3-8B shapes, at 64 tokens 4-8% faster (docs/PERFORMANCE_GPU.md).
  if constexpr (BN == 64) {
    if (wg)
      return cluster ? configured<qgemm_kernel<T, BN, true, true>>(smem)
                     : configured<qgemm_kernel<T, BN, false, true>>(smem);
  }
  return cluster ? configured<qgemm_kernel<T, BN, true, false>>(smem)
                 : configured<qgemm_kernel<T, BN, false, false>>(smem);
}

// How many clusters of `splits` blocks (blocks, for 1) of the kernel run at once on this GPU
// (the occupancy API, once per kernel and size).
template <DType T, int BN>
int64_t resident_units(int splits, bool wg) {
  static int64_t cache[2][kMaxSplits + 1] = {};
  int64_t& r = cache[wg ? 1 : 0][splits];
  if (r == 0) {
    const QgemmKernel kernel = pick_kernel<T, BN>(splits > 1, wg);
    const size_t smem = sizeof(QgemmSmem<T, BN>);
    int count = 0;
    if (splits == 1) {
      SLUICE_CUDA_CHECK(
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&count, kernel, kThreads, smem));
      count *= sm_count();
    } else {
      cudaLaunchConfig_t cfg{};
      cfg.gridDim = dim3(1, 1, static_cast<unsigned>(splits));
      cfg.blockDim = dim3(kThreads);
      cfg.dynamicSmemBytes = smem;
      cudaLaunchAttribute attr{};
      attr.id = cudaLaunchAttributeClusterDimension;
      attr.val.clusterDim.x = 1, attr.val.clusterDim.y = 1;
      attr.val.clusterDim.z = static_cast<unsigned>(splits);
      cfg.attrs = &attr;
      cfg.numAttrs = 1;
      SLUICE_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&count, kernel, &cfg));
    }
    r = std::max(1, count);
  }
  return r;
}

// K splits of a cluster-summed launch of `tiles` tiles over `stages` stages: the fewest waves
// of resident clusters (of resident blocks, unsplit) times (stages per block + kSplitOverhead),
// each split at least kMinStagesPerSplit stages; ties go to fewer splits. Depends on the
// launch's shapes and this GPU only.
template <DType T, int BN>
int plan_cluster_splits(int64_t tiles, int64_t stages, bool wg) {
  static const int64_t cap = qgemm_wgmma_available() ? kMaxSplits : kPortableSplits;  // H100
  const int64_t most = std::clamp<int64_t>(stages / kMinStagesPerSplit, 1, cap);
  int best = 1;
  int64_t best_cost = INT64_MAX;
  for (int64_t s = 1; s <= most; ++s) {
    const int64_t per = (stages + s - 1) / s, used = (stages + per - 1) / per;
    if (used != s) continue;  // the same splits as a smaller count
    const int64_t units = resident_units<T, BN>(static_cast<int>(s), wg);
    const int64_t cost = (tiles + units - 1) / units * (per + kSplitOverhead);
    if (cost < best_cost) best = static_cast<int>(s), best_cost = cost;
  }
  return best;
}

// splits 0: planned here (plan_cluster_splits), the split sums in clusters.
template <DType T, int BN>
void launch(const QgemmArgs& args, int splits, const QgemmOptions& o, cudaStream_t s) {
  const bool wg = o.wgmma;
  static_assert(x_tiles_aligned<T, BN>(), "wgmma reads 1024-aligned x tiles");
  QgemmArgs a = args;
  const int64_t stages = a.cols / kStageCols;
  if (splits == 0) {
    const int64_t tiles = (a.n + BN - 1) / BN * a.segs.first_block[a.segs.count];
    splits = plan_cluster_splits<T, BN>(tiles, stages, wg);
    a.stages_per_split = (stages + splits - 1) / splits;
  }
  const bool cluster = splits > 1 && cluster_sums(o);
  const QgemmKernel kernel = pick_kernel<T, BN>(cluster, wg);
  const dim3 grid(static_cast<unsigned>((a.n + BN - 1) / BN),
                  static_cast<unsigned>(a.segs.first_block[a.segs.count]),
                  static_cast<unsigned>(splits));
  launch_pdl_cluster(kernel, grid, dim3(kThreads), sizeof(QgemmSmem<T, BN>), cluster ? splits : 1,
                     s, a);
}

template <DType T>
void launch_any_bn(const QgemmArgs& a, int splits, const QgemmOptions& o, cudaStream_t s) {
  switch (tile_tokens(a.n)) {
    case 16:
      return launch<T, 16>(a, splits, o, s);
    case 32:
      return launch<T, 32>(a, splits, o, s);
    default:
      return launch<T, 64>(a, splits, o, s);
  }
}

// One launch over products ps[0 .. count) (same dtype, cols and splits; 0: planned at launch for
// cluster sums); partial: the global split sums' scratch (count 1 only).
void launch_products(const uint16_t* x, int64_t n, const RowsProduct* ps, int count, int splits,
                     void* partial, const QgemmOptions& o, cudaStream_t s) {
  const Weight& w = *ps[0].w;
  const Segments segs = make_segments(ps, count, kQuantBlock, kBM);
  if (segs.first_block[count] == 0) return;
  const QgemmArgs a{reinterpret_cast<const __half*>(x),
                    n,
                    w.cols,
                    segs,
                    static_cast<float*>(partial),
                    splits > 0 ? (w.cols / kStageCols + splits - 1) / splits : 0};
  switch (w.dtype) {
    case DType::Q4G32:
      return launch_any_bn<DType::Q4G32>(a, splits, o, s);
    case DType::Q8G32:
      return launch_any_bn<DType::Q8G32>(a, splits, o, s);
    case DType::Q8G16:
      return launch_any_bn<DType::Q8G16>(a, splits, o, s);
    default:
      SLUICE_ASSERT(false, "qgemm takes Q4G32, Q8G32 or Q8G16 weights");
  }
}

}  // namespace

bool qgemm_wgmma_available() {
  int dev = 0, major = 0, minor = 0;
  SLUICE_CUDA_CHECK(cudaGetDevice(&dev));
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  return major == 9 && minor == 0;  // the sm_90a code; other GPUs run the compute_80 PTX
}

bool qgemm_supported(const Weight& w) {
  const bool q = w.dtype == DType::Q4G32 || w.dtype == DType::Q8G32 || w.dtype == DType::Q8G16;
  return q && w.cols % kStageCols == 0 && w.cols > 0;
}

size_t qgemm_scratch_bytes(int64_t n, const Weight& w, const QgemmOptions& o) {
  const RowsProduct one{&w, nullptr};
  const int splits = plan_splits(launch_blocks(n, &one, 1), w.cols / kStageCols);
  return splits > 1 && !cluster_sums(o) ? static_cast<size_t>(splits) * n * w.rows * sizeof(float)
                                        : 0;
}

void qgemm_many(const uint16_t* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                const QgemmOptions& o, cudaStream_t s) {
  if (n <= 0) return;
  const int64_t stages = ps[0].w->cols / kStageCols;
  if (o.wave_plan && cluster_sums(o)) {  // one launch, planned for all its tiles
    launch_products(x, n, ps, count, 0, nullptr, o, s);
    return;
  }
  auto splits_alone = [&](int i) { return plan_splits(launch_blocks(n, ps + i, 1), stages); };
  for (int i = 0; i < count;) {
    const int splits = splits_alone(i);
    if (splits > 1 && !cluster_sums(o)) {  // partial sums in scratch, one product at a time
      launch_products(x, n, ps + i, 1, splits, scratch, o, s);
      const int64_t elems = n * ps[i].w->rows;
      launch_pdl(sum_splits_kernel, dim3(static_cast<unsigned>((elems + 255) / 256)), dim3(256), s,
                 static_cast<const float*>(scratch), elems, splits, ps[i].y);
      ++i;
      continue;
    }
    int j = i + 1;  // the following products with the same splits share the launch
    while (j < count && splits_alone(j) == splits) ++j;
    launch_products(x, n, ps + i, j - i, splits, nullptr, o, s);
    i = j;
  }
}

}  // namespace sluice::cuda
