// Mixture-of-experts kernels: routing (one warp per token), the weighted combine, and the
// expert-indexed weight-streaming product. Expert ids never leave the device, so a MoE step
// needs no host sync and can be recorded as a graph.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/act16.cuh"
#include "backend/cuda/kernels/expert_groups.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/kernels/route.cuh"
#include "backend/cuda/kernels/rows_product.cuh"

namespace sluice::cuda {
namespace {

// One warp per token (route.cuh).
template <int L>
__global__ void moe_route_kernel(const float* logits, int64_t num_experts, int k, MoeRouting mode,
                                 bool renormalize, int32_t* ids, float* weights) {
  pdl_wait();
  pdl_launch_dependents();
  route_token<L>(logits, blockIdx.x, num_experts, k, mode, renormalize, ids, weights);
}

// out[t, d] (+)= sum over j of weights[t, j] * y[t*k+j, d], in double, j in order; the sum is
// rounded to float before it is added (the bits of combine, then add).
__global__ void moe_combine_kernel(const float* y, const float* weights, int64_t k, int64_t dim,
                                   bool accumulate, float* out) {
  pdl_wait();
  pdl_launch_dependents();
  const int64_t t = blockIdx.y, d = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (d >= dim) return;
  double acc = 0.0;
  for (int64_t j = 0; j < k; ++j)
    acc += static_cast<double>(weights[t * k + j]) * y[(t * k + j) * dim + d];
  const float sum = static_cast<float>(acc);
  out[t * dim + d] = accumulate ? out[t * dim + d] + sum : sum;
}

// Where a block's slots come from: items (grouped; block y is item y, past *num_items idle), or
// none (block y is slot y alone, its expert ids[y]).
struct SlotSource {
  const int32_t* ids;
  const int32_t* order;
  const ExpertItem* items;
  const int32_t* num_items;
  int64_t k;
  bool x_per_slot;
};

// The products of one launch: block x is row block x % row_blocks of product x / row_blocks.
struct ExpertProducts {
  ExpertOutput p[kMaxExpertProducts];
  int64_t row_blocks;
};

// y[slot, rows] for the NC slots of block y (one expert) and kRows weight rows of block x: the
// body of matmul_act16_kernel over expert e's planar weight, each slot's activation row
// gathered (slot, or slot / k when tokens share x); plus the expert's bias row.
template <class F, int NC>
__global__ __launch_bounds__(kMaxSplit * 32, kMinBlocks<F, NC>) void experts_act16_kernel(
    const int16_t* xq, const ActBlock* xb, ExpertProducts ps, SlotSource src) {
  __shared__ float part[kMaxSplit][kRows][NC];
  pdl_wait();  // the ids, the grouping and the activations come from the kernels before
  const ExpertOutput& out = ps.p[blockIdx.x / ps.row_blocks];
  const ExpertWeights& w = out.w;
  int expert = 0, nc = 1, first = 0;
  if (src.items) {
    if (static_cast<int32_t>(blockIdx.y) >= *src.num_items) return;
    const ExpertItem it = src.items[blockIdx.y];
    expert = it.expert, nc = it.count, first = it.first;
  } else {
    expert = src.ids[blockIdx.y];
  }
  if (expert < 0 || expert >= w.count) return;
  int32_t slot[NC], act[NC];
#pragma unroll
  for (int c = 0; c < NC; ++c) {
    slot[c] = c < nc ? (src.items ? src.order[first + c] : static_cast<int32_t>(blockIdx.y)) : 0;
    act[c] = src.x_per_slot ? slot[c] : static_cast<int32_t>(slot[c] / src.k);
  }
  const int64_t units = w.cols / kQuantBlock;
  const uint8_t* base = w.base + expert * w.stride;
  const Planes p = quant_planes(w.dtype, base, w.rows, units);
  const int64_t r0 = static_cast<int64_t>(blockIdx.x % ps.row_blocks) * kRows;
  const int nr = static_cast<int>(min(static_cast<int64_t>(kRows), w.rows - r0));
  float acc[kRows][NC] = {};
  walk_units<F>(p, r0, nr, units, [&](const auto& wu, int64_t u) {
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      if (c >= nc) break;
      const int64_t blk = act[c] * units + u;
      const Act32 a = load_act(xq + blk * 32);
      const ActBlock ab = xb[blk];
#pragma unroll
      for (int r = 0; r < kRows; ++r)
        if (r < nr) acc[r][c] += F::dot(wu[r], a, ab);
    }
  });
  store_sums<NC>(
      acc, part, nr, nc, out.y, w.rows, r0, [&](int c) { return slot[c]; }, nullptr, false,
      out.bias ? out.bias + expert * w.rows : nullptr);
}

template <class F, int NC>
void launch_experts(const Act16& a, const ExpertProducts& ps, int count, const SlotSource& src,
                    int64_t blocks_y, cudaStream_t s) {
  SLUICE_ASSERT(blocks_y <= 65535, "too many expert slots in one product");
  const dim3 grid(static_cast<unsigned>(ps.row_blocks * count), static_cast<unsigned>(blocks_y));
  const int threads = split_warps(ps.p[0].w.cols / kQuantBlock) * 32;
  launch_pdl(experts_act16_kernel<F, NC>, grid, dim3(threads), s, a.codes, a.blocks, ps, src);
}

template <class F>
void launch_experts_nc(int nc, const Act16& a, const ExpertProducts& ps, int count,
                       const SlotSource& src, int64_t blocks_y, cudaStream_t s) {
  if (nc == 1) return launch_experts<F, 1>(a, ps, count, src, blocks_y, s);
  if (nc == 2) return launch_experts<F, 2>(a, ps, count, src, blocks_y, s);
  if (nc == 4) return launch_experts<F, 4>(a, ps, count, src, blocks_y, s);
  launch_experts<F, 8>(a, ps, count, src, blocks_y, s);
}

// Steps of up to this many tokens run one block per slot (an expert shared by two tokens is
// read twice, mostly from L2); larger ones group slots by expert first.
constexpr int64_t kUngroupedMaxTokens = 4;
constexpr int kMaxGroup = 8;  // slots per block, grouped

// Slots per grouped block for n tokens (an expert takes at most one slot per token).
int group_width(int64_t n) {
  int nc = 1;
  while (nc < n && nc < kMaxGroup) nc *= 2;
  return nc;
}

size_t align16(size_t b) {
  return (b + 15) / 16 * 16;
}

}  // namespace

bool experts_supported(DType t) {
  return is_quantized(t);
}

void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
               bool renormalize, int32_t* ids, float* weights, cudaStream_t s) {
  const int lanes = route_lanes(num_experts, k);  // checks k and num_experts
  if (n <= 0) return;
  auto kernel = lanes == 1   ? moe_route_kernel<1>
                : lanes == 4 ? moe_route_kernel<4>
                             : moe_route_kernel<kRouteLane>;
  launch_pdl(kernel, dim3(static_cast<unsigned>(n)), dim3(32), s, logits, num_experts,
             static_cast<int>(k), mode, renormalize, ids, weights);
}

void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                 float* out, bool accumulate, cudaStream_t s) {
  if (n <= 0 || dim <= 0) return;
  const dim3 grid(static_cast<unsigned>((dim + 255) / 256), static_cast<unsigned>(n));
  launch_pdl(moe_combine_kernel, grid, dim3(256), s, y, weights, k, dim, accumulate, out);
}

size_t experts_scratch_bytes(int64_t n, int64_t k, bool x_per_slot, const ExpertWeights& w) {
  const int64_t slots = n * k;
  size_t bytes = align16(act16_scratch_bytes(x_per_slot ? slots : n, w.cols));
  if (n > kUngroupedMaxTokens)
    bytes += align16(sizeof(int32_t) * slots) +
             align16(sizeof(ExpertItem) * max_items(slots, w.count, group_width(n))) + 16;
  return bytes;
}

void matmul_experts(const float* x, bool x_per_slot, const RowsMode& mode, int64_t n,
                    const ExpertOutput* ps, int count, const int32_t* ids, int64_t k, void* scratch,
                    cudaStream_t s) {
  SLUICE_ASSERT(count >= 1 && count <= kMaxExpertProducts, "1 or 2 expert products per launch");
  const ExpertWeights& w = ps[0].w;
  ExpertProducts all{};
  all.row_blocks = (w.rows + kRows - 1) / kRows;
  for (int i = 0; i < count; ++i) {
    const ExpertWeights& wi = ps[i].w;
    SLUICE_ASSERT(
        wi.dtype == w.dtype && wi.rows == w.rows && wi.cols == w.cols && wi.count == w.count,
        "expert products in one launch share their shape");
    all.p[i] = ps[i];
  }
  SLUICE_ASSERT(experts_supported(w.dtype), "expert kernels take the quantized family");
  SLUICE_ASSERT(w.count <= kMaxGroupedExperts, "too many experts for the grouping kernel");
  const int64_t slots = n * k;
  if (slots <= 0 || w.rows <= 0) return;
  uint8_t* p = static_cast<uint8_t*>(scratch);
  const Act16 a = quantize_act16(x, x_per_slot ? slots : n, w.cols, mode, p, s);
  p += align16(act16_scratch_bytes(x_per_slot ? slots : n, w.cols));
  SlotSource src{ids, nullptr, nullptr, nullptr, k, x_per_slot};
  int nc = 1;
  int64_t blocks_y = slots;
  if (n > kUngroupedMaxTokens) {
    nc = group_width(n);
    blocks_y = max_items(slots, w.count, nc);
    int32_t* order = reinterpret_cast<int32_t*>(p);
    p += align16(sizeof(int32_t) * slots);
    ExpertItem* items = reinterpret_cast<ExpertItem*>(p);
    p += align16(sizeof(ExpertItem) * blocks_y);
    int32_t* num_items = reinterpret_cast<int32_t*>(p);
    launch_pdl_smem(group_slots_kernel, dim3(1), dim3(1024), 4 * sizeof(int32_t) * w.count, s, ids,
                    slots, w.count, nc, order, items, num_items);
    src.order = order, src.items = items, src.num_items = num_items;
  }
  with_act16_format(w.dtype, [&](auto f) {
    launch_experts_nc<decltype(f)>(nc, a, all, count, src, blocks_y, s);
  });
}

}  // namespace sluice::cuda
