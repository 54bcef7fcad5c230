// Quantized weights times int16-quantized activations (act16.cuh), for up to 8 activation
// rows. Decoding each weight to float cost more ALU time than streaming it from memory; this
// path is bandwidth-bound.
#include <cuda_runtime.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/act16.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/route.cuh"
#include "backend/cuda/kernels/row_math.cuh"
#include "backend/cuda/kernels/rows_product.cuh"

namespace sluice::cuda {
namespace {

// One warp per (row, block): lane j quantizes element j of x, of silu(x) * mode.up, or of
// x * mode.norm with the row's 1 / rms(x) put in the block's scales (each warp sums its whole
// row's squares, in a fixed order). RouteL > 0: the blocks past the quantization's route one
// token a warp (route_token<RouteL>, mode.route).
template <int RouteL>
__global__ void quantize_act16_kernel(const float* x, int64_t count_blocks, int64_t row_blocks,
                                      RowsMode mode, int16_t* q, ActBlock* blocks) {
  pdl_launch_dependents();  // the product after it may start streaming its weights
  pdl_wait();
  const int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  if constexpr (RouteL > 0) {
    const int64_t quant_warps = (count_blocks * 32 + blockDim.x - 1) / blockDim.x * blockDim.x / 32;
    const int64_t t = b - quant_warps;  // this warp's token, past the quantization's blocks
    if (t >= 0) {
      if (t < count_blocks / row_blocks)
        route_token<RouteL>(mode.route.logits, t, mode.route_experts, mode.route_k, mode.route.mode,
                            mode.route.renormalize, mode.route.ids, mode.route.weights);
      return;
    }
  }
  if (b >= count_blocks) return;
  const int lane = threadIdx.x & 31;
  float v = x[b * 32 + lane], scale = 1.0f;
  if (mode.up) {
    v = glu_gate(v, mode.up[b * 32 + lane], mode.glu);
  }
  if (mode.norm) {
    const int64_t cols = row_blocks * 32;
    const float4* row = reinterpret_cast<const float4*>(x + b / row_blocks * cols);
    float ss = 0.0f;
    for (int64_t i = lane; i < cols / 4; i += 32) {
      const float4 a = row[i];
      ss += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w;
    }
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    scale = inv_rms(ss, cols, mode.eps);
    v *= mode.norm[b % row_blocks * 32 + lane];
  }
  quantize_act16_block(v, q + b * 32 + lane, blocks + b, scale);
}

// y[n, rows] of each segment: block (bx, by) computes kRows rows of the segment bx falls in,
// for activation rows [by*NC, +NC). Warp w of ks walks blocks w*32 + lane, + 32*ks, ...; the
// warps' partial sums are added in warp order through shared memory. Staged: the weights come
// through `stages` shared-memory stages (walk_units_staged), same sums.
template <class F, int NC, bool Staged>
__device__ __forceinline__ void act16_rows(const int16_t* xq, const ActBlock* xb, int64_t n,
                                           const Segments& segs, int64_t bx, bool accumulate,
                                           int stages, uint8_t* staged) {
  __shared__ float part[kMaxSplit][kRows][NC];
  const Segment seg = segment_of(segs, bx, kRows);
  const int64_t c0 = static_cast<int64_t>(blockIdx.y) * NC;
  const int nc = static_cast<int>(min(static_cast<int64_t>(NC), n - c0));
  const int nr = static_cast<int>(min(static_cast<int64_t>(kRows), seg.rows - seg.r0));
  const int64_t units = seg.w.units;
  float acc[kRows][NC] = {};
  auto body = [&](const auto& wu, int64_t u) {
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
  };
  if constexpr (Staged)
    walk_units_staged<F>(seg.w, seg.r0, nr, units, staged, stages, body);
  else
    walk_units<F>(seg.w, seg.r0, nr, units, body);
  store_row_sums<NC>(acc, part, nr, nc, seg.y, seg.rows, seg.r0, c0, nullptr, accumulate, seg.bias);
}

template <class F, int NC, bool Staged>
__global__ __launch_bounds__(
    kMaxSplit * 32,
    (Staged ? kStagedMinBlocks<F, NC>
            : kMinBlocks<F, NC>)) void matmul_act16_kernel(const int16_t* xq, const ActBlock* xb,
                                                           int64_t n, Segments segs,
                                                           bool accumulate, int stages) {
  extern __shared__ __align__(16) uint8_t staged[];
  act16_rows<F, NC, Staged>(xq, xb, n, segs, blockIdx.x, accumulate, stages, staged);
}

// Two runs of products of two formats in one launch (Qwen3's and Gemma 3's q and k in Q4_K
// beside v in Q6_K, one activation row): blocks below `split` take segs1's products as
// matmul_act16_kernel<F1, 1, Staged1> does, the rest segs2's as <F2, 1, false>, so the same
// sums, and one dependent launch fewer.
template <class F1, class F2, bool Staged1>
__global__ __maxnreg__(96) void matmul_act16_pair_kernel(const int16_t* xq, const ActBlock* xb,
                                                         Segments segs1, int64_t split,
                                                         Segments segs2, bool accumulate,
                                                         int stages) {
  extern __shared__ __align__(16) uint8_t staged[];
  if (blockIdx.x < split)
    act16_rows<F1, 1, Staged1>(xq, xb, 1, segs1, blockIdx.x, accumulate, stages, staged);
  else
    act16_rows<F2, 1, false>(xq, xb, 1, segs2, blockIdx.x - split, accumulate, 0, staged);
}

template <class F, int NC>
void launch(const int16_t* xq, const ActBlock* xb, int64_t n, const RowsProduct* ps, int count,
            const RowsMode& mode, cudaStream_t s) {
  const Segments segs = make_segments(ps, count, kQuantBlock, kRows);
  if (segs.first_block[count] == 0) return;
  const dim3 grid(static_cast<unsigned>(segs.first_block[count]),
                  static_cast<unsigned>((n + NC - 1) / NC));
  const int threads = split_warps(segs.w[0].units) * 32;
  const int stages = stages_for(segs.w[0].units, threads, mode.max_stages);
  if constexpr (kStageable<F>) {
    if (stages > 0) {
      constexpr auto kernel = matmul_act16_kernel<F, NC, true>;
      allow_staged_smem<kernel>(stage_bytes<F>(kMaxSplit * 32) * kMaxRowsStages);
      return launch_pdl_smem(kernel, grid, dim3(threads), stages * stage_bytes<F>(threads), s, xq,
                             xb, n, segs, mode.accumulate, stages);
    }
  }
  launch_pdl(matmul_act16_kernel<F, NC, false>, grid, dim3(threads), s, xq, xb, n, segs,
             mode.accumulate, 0);
}

// Products ps[0, mid) of format F1 and ps[mid, count) of format F2 at one activation row, in one
// launch (matmul_act16_pair_kernel); false (nothing launched) where their walks differ.
template <class F1, class F2>
bool launch_pair(const int16_t* xq, const ActBlock* xb, const RowsProduct* ps, int mid, int count,
                 const RowsMode& mode, cudaStream_t s) {
  const Segments segs1 = make_segments(ps, mid, kQuantBlock, kRows);
  const Segments segs2 = make_segments(ps + mid, count - mid, kQuantBlock, kRows);
  const int threads = split_warps(segs1.w[0].units) * 32;
  if (threads != split_warps(segs2.w[0].units) * 32) return false;
  const int64_t split = segs1.first_block[mid];
  const dim3 grid(static_cast<unsigned>(split + segs2.first_block[count - mid]));
  const int stages = kStageable<F1> ? stages_for(segs1.w[0].units, threads, mode.max_stages) : 0;
  if constexpr (kStageable<F1>) {
    if (stages > 0) {
      constexpr auto kernel = matmul_act16_pair_kernel<F1, F2, true>;
      allow_staged_smem<kernel>(stage_bytes<F1>(kMaxSplit * 32) * kMaxRowsStages);
      launch_pdl_smem(kernel, grid, dim3(threads), stages * stage_bytes<F1>(threads), s, xq, xb,
                      segs1, split, segs2, mode.accumulate, stages);
      return true;
    }
  }
  launch_pdl(matmul_act16_pair_kernel<F1, F2, false>, grid, dim3(threads), s, xq, xb, segs1, split,
             segs2, mode.accumulate, 0);
  return true;
}

template <class F>
void launch_any_n(const int16_t* xq, const ActBlock* xb, int64_t n, const RowsProduct* ps,
                  int count, const RowsMode& mode, cudaStream_t s) {
  if (n == 1) return launch<F, 1>(xq, xb, n, ps, count, mode, s);
  if (n == 2) return launch<F, 2>(xq, xb, n, ps, count, mode, s);
  if (n <= 4) return launch<F, 4>(xq, xb, n, ps, count, mode, s);
  launch<F, 8>(xq, xb, n, ps, count, mode, s);
}

}  // namespace

size_t act16_scratch_bytes(int64_t n, int64_t cols) {
  const int64_t blocks = n * (cols / kQuantBlock);
  return static_cast<size_t>(blocks) * (32 * sizeof(int16_t) + sizeof(ActBlock));
}

Act16 quantize_act16(const float* x, int64_t n, int64_t cols, const RowsMode& mode, void* scratch,
                     cudaStream_t s) {
  const int64_t blocks = n * (cols / kQuantBlock);
  Act16 a{static_cast<int16_t*>(scratch), nullptr};
  a.blocks = reinterpret_cast<ActBlock*>(a.codes + blocks * 32);
  if (blocks <= 0) return a;
  const int64_t quant_grid = (blocks * 32 + 255) / 256;
  if (!mode.route.logits) {
    launch_pdl(quantize_act16_kernel<0>, dim3(static_cast<unsigned>(quant_grid)), dim3(256), s, x,
               blocks, cols / kQuantBlock, mode, a.codes, a.blocks);
    return a;
  }
  const int lanes = route_lanes(mode.route_experts, mode.route_k);
  auto kernel = lanes == 1   ? quantize_act16_kernel<1>
                : lanes == 4 ? quantize_act16_kernel<4>
                             : quantize_act16_kernel<kRouteLane>;
  const int64_t route_grid = (n + 7) / 8;  // a warp per token
  launch_pdl(kernel, dim3(static_cast<unsigned>(quant_grid + route_grid)), dim3(256), s, x, blocks,
             cols / kQuantBlock, mode, a.codes, a.blocks);
  return a;
}

void matmul_rows_act16(const float* x, int64_t n, const RowsProduct* ps, int count, void* scratch,
                       cudaStream_t s, const RowsMode& mode) {
  const Weight& w = *ps[0].w;
  if (n <= 0) return;
  const Act16 a = quantize_act16(x, n, w.cols, mode, scratch, s);
  int16_t* xq = a.codes;
  ActBlock* xb = a.blocks;
  // Q4G32 products then Q6G16 or Q8G16 ones at one row: one launch (mode.pair_launch).
  int mid = 1;
  while (mid < count && ps[mid].w->dtype == w.dtype) ++mid;
  bool tail_one = mid < count;
  for (int i = mid + 1; tail_one && i < count; ++i) tail_one = ps[i].w->dtype == ps[mid].w->dtype;
  if (mode.pair_launch && n == 1 && tail_one && w.dtype == DType::Q4G32) {
    const DType t2 = ps[mid].w->dtype;
    if (t2 == DType::Q6G16 && launch_pair<IntQ4G32, IntQ6G16>(xq, xb, ps, mid, count, mode, s))
      return;
    if (t2 == DType::Q8G16 && launch_pair<IntQ4G32, IntQ8G16>(xq, xb, ps, mid, count, mode, s))
      return;
  }
  for (int i = 0; i < count;) {  // one launch per run of products of one dtype
    int j = i + 1;
    while (j < count && ps[j].w->dtype == ps[i].w->dtype) ++j;
    with_act16_format(ps[i].w->dtype, [&](auto f) {
      launch_any_n<decltype(f)>(xq, xb, n, ps + i, j - i, mode, s);
    });
    i = j;
  }
}

}  // namespace sluice::cuda
