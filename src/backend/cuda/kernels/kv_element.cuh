#pragma once
// Element access of the paged KV cache for either of its dtypes (float or __half), and the
// host-side dispatch that launches a kernel template with the cache's element type.
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/backend.h"

namespace sluice::cuda {

__device__ __forceinline__ float kv_load(const float* p) {
  return *p;
}
__device__ __forceinline__ float kv_load(const __half* p) {
  return __half2float(*p);
}
__device__ __forceinline__ void kv_store(float* p, float v) {
  *p = v;
}
__device__ __forceinline__ void kv_store(__half* p, float v) {
  *p = __float2half_rn(v);
}

// out[0..7] = p[0..7] (p 16-byte aligned for __half, 32-byte for float).
__device__ __forceinline__ void kv_load8(const float* p, float out[8]) {
  const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
  out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
}
__device__ __forceinline__ void kv_load8(const __half* p, float out[8]) {
  const uint4 v = *reinterpret_cast<const uint4*>(p);
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&words[i]));
    out[2 * i] = f.x, out[2 * i + 1] = f.y;
  }
}

// Calls f(T{}) with T = float or __half, the element type of `dtype`.
template <class F>
void with_kv_type(KvDtype dtype, F&& f) {
  if (dtype == KvDtype::F16)
    f(__half{});
  else
    f(float{});
}

}  // namespace sluice::cuda
