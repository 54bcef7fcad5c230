#pragma once
// The rotation of RoPE pair i (of `half` pairs) at position `pos`: inv_freq[i] when given (it
// carries llama3-style scaling), else theta^(-i / half); and the position a pair turns by.
#include <cstdint>

namespace sluice::cuda {

__device__ __forceinline__ void rope_sincos(int32_t pos, int64_t i, int64_t half, float theta,
                                            const float* inv_freq, float* sn, float* cs) {
  const float freq =
      inv_freq ? inv_freq[i]
               : static_cast<float>(1.0 / pow(static_cast<double>(theta), 2.0 * i / (2.0 * half)));
  sincosf(static_cast<float>(pos) * freq, sn, cs);
}

// Token t's position for pair i: positions[t], or with M-RoPE sections (RopeParams::plane_of)
// the plane of the pair's section, positions[plane * n + t].
__device__ __forceinline__ int32_t rope_position(const int32_t* positions, int64_t t, int64_t n,
                                                 int64_t i, const int32_t (&sections)[4]) {
  const int32_t total = sections[0] + sections[1] + sections[2] + sections[3];
  if (total == 0) return positions[t];
  int64_t s = i % total, plane = 0;
  while (plane < 3 && s >= sections[plane]) s -= sections[plane++];
  return positions[plane * n + t];
}

}  // namespace sluice::cuda
