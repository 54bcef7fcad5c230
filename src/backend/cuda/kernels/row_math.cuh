#pragma once
// Per-element formulas shared by the ops and the kernels that fold them in, so that a fused
// path rounds as the op it replaces.
#include <cstdint>

#include "backend/backend.h"

namespace sluice::cuda {

// 1 / rms of `count` values whose squares sum to sum_sq (as ref::rms_norm).
__device__ __forceinline__ float inv_rms(float sum_sq, int64_t count, float eps) {
  return rsqrtf(sum_sq / static_cast<float>(count) + eps);
}

// silu(gate) * up.
__device__ __forceinline__ float silu_gate(float gate, float up) {
  return gate / (1.0f + expf(-gate)) * up;
}

// gpt-oss's clamped SwiGLU (Backend::swiglu_clamped).
__device__ __forceinline__ float swiglu_clamped_gate(float gate, float up, float alpha,
                                                     float limit) {
  const float g = fminf(gate, limit), u = fminf(fmaxf(up, -limit), limit);
  return (u + 1.0f) * g / (1.0f + expf(-alpha * g));
}

// The gated unit Glu names: gpt-oss's clamped SwiGLU when it has a limit, else silu(gate) * up.
__device__ __forceinline__ float glu_gate(float gate, float up, const Glu& glu) {
  return glu.limit > 0.0f ? swiglu_clamped_gate(gate, up, glu.alpha, glu.limit)
                          : silu_gate(gate, up);
}

}  // namespace sluice::cuda
