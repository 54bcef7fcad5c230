#pragma once
// Slots (token, rank) grouped by expert on the device, in chunks a block takes: shared by the
// weight-streaming expert product (kernels_moe.cu) and the expert GEMM (kernels_qgemm_experts.cu).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "backend/cuda/kernels/pdl.cuh"

namespace sluice::cuda {
namespace {

// A chunk of at most NC slots of one expert: order[first .. first + count).
struct ExpertItem {
  int32_t expert, first, count, unused;
};

// One block: slots grouped by expert into order[slots] (within an expert in no fixed order:
// each slot's sums do not depend on its neighbours), and chunks of up to nc slots per expert
// into items[*num_items]. Shared memory: 4 * num_experts ints. Ids out of range are left out.
__global__ void group_slots_kernel(const int32_t* ids, int64_t slots, int64_t num_experts, int nc,
                                   int32_t* order, ExpertItem* items, int32_t* num_items) {
  extern __shared__ int32_t counts[];
  int32_t* start = counts + num_experts;
  int32_t* item_base = start + num_experts;
  int32_t* fill = item_base + num_experts;
  pdl_wait();
  for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x) counts[e] = fill[e] = 0;
  __syncthreads();
  for (int64_t s = threadIdx.x; s < slots; s += blockDim.x)
    if (ids[s] >= 0 && ids[s] < num_experts) atomicAdd(&counts[ids[s]], 1);
  __syncthreads();
  if (threadIdx.x == 0) {
    int32_t at = 0, item = 0;
    for (int64_t e = 0; e < num_experts; ++e) {
      start[e] = at, item_base[e] = item;
      at += counts[e], item += (counts[e] + nc - 1) / nc;
    }
    *num_items = item;
  }
  __syncthreads();
  pdl_launch_dependents();
  for (int64_t e = threadIdx.x; e < num_experts; e += blockDim.x)
    for (int32_t c = 0; c < counts[e]; c += nc)
      items[item_base[e] + c / nc] =
          ExpertItem{static_cast<int32_t>(e), start[e] + c, min(nc, counts[e] - c), 0};
  for (int64_t s = threadIdx.x; s < slots; s += blockDim.x) {
    const int32_t e = ids[s];
    if (e >= 0 && e < num_experts)
      order[start[e] + atomicAdd(&fill[e], 1)] = static_cast<int32_t>(s);
  }
}

// Blocks of grouped chunks: sum over experts of ceil(count / nc) <= slots / nc + experts used.
int64_t max_items(int64_t slots, int64_t num_experts, int nc) {
  return slots / nc + std::min(slots, num_experts);
}

}  // namespace
}  // namespace sluice::cuda
