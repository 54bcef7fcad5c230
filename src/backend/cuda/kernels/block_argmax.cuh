#pragma once
// The first index of the largest f(i) over [0, n) for a block of kThreads threads: each thread
// keeps the first largest of its strided indices, then warps and the block keep the largest,
// the lower index among equals. NaN is never larger; no value above -inf -> 0. Every thread
// gets the answer.
#include <cstdint>

namespace sluice::cuda {

template <int kThreads, class F>
__device__ int64_t block_argmax(int64_t n, F f) {
  constexpr int kWarps = kThreads / 32;
  __shared__ float best_s[kWarps];
  __shared__ int64_t at_s[kWarps];
  float best = -INFINITY;
  int64_t at = INT64_MAX;
#pragma unroll 8
  for (int64_t i = threadIdx.x; i < n; i += kThreads) {
    const float v = f(i);
    if (v > best) best = v, at = i;
  }
  auto better = [](float v, int64_t i, float bv, int64_t bi) {
    return v > bv || (v == bv && i < bi);
  };
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int64_t i = __shfl_xor_sync(0xffffffffu, at, o);
    if (better(v, i, best, at)) best = v, at = i;
  }
  if (threadIdx.x % 32 == 0) best_s[threadIdx.x / 32] = best, at_s[threadIdx.x / 32] = at;
  __syncthreads();
  best = best_s[0], at = at_s[0];
  for (int w = 1; w < kWarps; ++w)
    if (better(best_s[w], at_s[w], best, at)) best = best_s[w], at = at_s[w];
  __syncthreads();  // the slots may be reused
  return at == INT64_MAX ? 0 : at;
}

}  // namespace sluice::cuda
