#pragma once
// Element access of the paged KV cache for either of its dtypes (float or __half), and the
// host-side dispatch that launches a kernel template with the cache's element type.
#include <cuda_fp16.h>

#include "backend/backend.h"

namespace sluice::cuda {

__device__ __forceinline__ float kv_load(const float* p) { return *p; }
__device__ __forceinline__ float kv_load(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void kv_store(float* p, float v) { *p = v; }
__device__ __forceinline__ void kv_store(__half* p, float v) { *p = __float2half_rn(v); }

// Calls f(T{}) with T = float or __half, the element type of `dtype`.
template <class F>
void with_kv_type(KvDtype dtype, F&& f) {
  if (dtype == KvDtype::F16) f(__half{});
  else f(float{});
}

}  // namespace sluice::cuda
