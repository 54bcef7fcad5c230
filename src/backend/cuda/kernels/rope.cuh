#pragma once
// The rotation of RoPE pair i (of `half` pairs) at position `pos`: inv_freq[i] when given (it
// carries llama3-style scaling), else theta^(-i / half).
#include <cstdint>

namespace sluice::cuda {

__device__ __forceinline__ void rope_sincos(int32_t pos, int64_t i, int64_t half, float theta,
                                            const float* inv_freq, float* sn, float* cs) {
  const float freq =
      inv_freq ? inv_freq[i]
               : static_cast<float>(1.0 / pow(static_cast<double>(theta), 2.0 * i / (2.0 * half)));
  sincosf(static_cast<float>(pos) * freq, sn, cs);
}

}  // namespace sluice::cuda
