#pragma once
// Routing of one token by one warp (Backend::moe_route): moe_route_kernel, and the activation
// pass that routes beside its quantization (kernels_matmul_act16.cu).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "backend/backend.h"
#include "backend/cuda/kernels/kernels.h"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

// An expert's rank key: larger keys rank first (backend.h: larger logit first, NaN last, ties
// to the lower id). High word: the logit's bits made order-preserving (NaN lowest); low word:
// the complement of the id.
__device__ __forceinline__ uint64_t rank_key(float v, int e) {
  uint32_t b = __float_as_uint(v);
  b = isnan(v) ? 0u : (b & 0x80000000u) ? ~b : b | 0x80000000u;
  return (static_cast<uint64_t>(b) << 32) | (0xffffffffu - static_cast<uint32_t>(e));
}
__device__ __forceinline__ int key_expert(uint64_t key) {
  return static_cast<int>(0xffffffffu - static_cast<uint32_t>(key));
}

constexpr int kRouteLane = 16;  // most logits a lane holds in registers (up to 512 experts)

// Token t of logits [n, num_experts] by the calling warp: each lane keeps its L experts' keys in
// registers, sorted; k rounds take the warp's largest head. Weights in double, as the reference's
// (lane j computes expert j's). L: 1, 4 or 16, the fewest with 32 * L >= num_experts (the sort is
// L^2 / 2 compare-swaps).
template <int L>
__device__ __forceinline__ void route_token(const float* logits, int64_t t, int64_t num_experts,
                                            int k, MoeRouting mode, bool renormalize, int32_t* ids,
                                            float* weights) {
  const int lane = threadIdx.x & 31;
  const float* l = logits + t * num_experts;
  uint64_t keys[L];
  double mx_all = -INFINITY, total = 0.0;
#pragma unroll
  for (int i = 0; i < L; ++i) {
    const int64_t e = lane + 32 * i;
    const float v = e < num_experts ? l[e] : NAN;
    keys[i] = e < num_experts ? rank_key(v, static_cast<int>(e)) : 0;
    if (!isnan(v)) mx_all = fmax(mx_all, static_cast<double>(v));
  }
  if (mode == MoeRouting::kSoftmaxTopK) {
    for (int o = 16; o > 0; o >>= 1) mx_all = fmax(mx_all, __shfl_xor_sync(0xffffffffu, mx_all, o));
#pragma unroll
    for (int i = 0; i < L; ++i) {
      const int64_t e = lane + 32 * i;
      if (e < num_experts && !isnan(l[e])) total += exp(static_cast<double>(l[e]) - mx_all);
    }
    for (int o = 16; o > 0; o >>= 1) total += __shfl_xor_sync(0xffffffffu, total, o);
  }
  // Lane-local sort, largest first (a fixed network over registers).
#pragma unroll
  for (int i = 1; i < L; ++i)
#pragma unroll
    for (int j = L - 1; j >= i; --j)
      if (keys[j] > keys[j - 1]) {
        const uint64_t x = keys[j];
        keys[j] = keys[j - 1], keys[j - 1] = x;
      }
  int mine = -1;  // lane j: the expert of rank j
  for (int j = 0; j < k; ++j) {
    uint64_t best = keys[0];
    for (int o = 16; o > 0; o >>= 1) {
      const uint64_t other = __shfl_xor_sync(0xffffffffu, best, o);
      best = other > best ? other : best;
    }
    if (lane == j) mine = key_expert(best);
    if (keys[0] == best) {  // the winner's lane moves to its next key
#pragma unroll
      for (int i = 0; i + 1 < L; ++i) keys[i] = keys[i + 1];
      keys[L - 1] = 0;
    }
  }
  const double v = lane < k ? static_cast<double>(l[mine]) : 0.0;
  double mx = lane < k && !isnan(v) ? v : -INFINITY;
  for (int o = 16; o > 0; o >>= 1) mx = fmax(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  double w = 0.0;
  if (lane < k)
    w = mode == MoeRouting::kSoftmaxTopK ? (isnan(v) ? 0.0 : exp(v - mx_all)) / total : exp(v - mx);
  // The selected weights' sum in rank order, as the reference adds them.
  double sel_sum = 0.0;
  for (int j = 0; j < k; ++j) sel_sum += __shfl_sync(0xffffffffu, w, j);
  if (lane >= k) return;
  const bool divide = mode == MoeRouting::kTopKSoftmax || renormalize;
  ids[t * k + lane] = mine;
  weights[t * k + lane] = static_cast<float>(divide && sel_sum > 0 ? w / sel_sum : w);
}

// route_token's L for num_experts: the fewest of 1, 4, 16 with 32 * L >= num_experts (k of
// them a token, checked in range).
inline int route_lanes(int64_t num_experts, int64_t k) {
  SLUICE_ASSERT(k >= 1 && k <= kMaxRouteK && k <= num_experts, "experts per token out of range");
  SLUICE_ASSERT(num_experts <= 32 * kRouteLane, "routing takes up to 512 experts");
  return num_experts <= 32 ? 1 : num_experts <= 128 ? 4 : kRouteLane;
}

}  // namespace
}  // namespace sluice::cuda
