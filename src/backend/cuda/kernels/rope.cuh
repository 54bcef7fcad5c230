#pragma once
// The rotation of RoPE pair i (of `half` pairs) at position `pos`: inv_freq[i] when given (it
// carries llama3-style scaling), else theta^(-i / half); and the position a pair turns by.
#include <cstdint>

#include "backend/backend.h"

namespace sluice::cuda {

__device__ __forceinline__ void rope_sincos(int32_t pos, int64_t i, int64_t half, float theta,
                                            const float* inv_freq, float* sn, float* cs) {
  const float freq =
      inv_freq ? inv_freq[i]
               : static_cast<float>(1.0 / pow(static_cast<double>(theta), 2.0 * i / (2.0 * half)));
  sincosf(static_cast<float>(pos) * freq, sn, cs);
}

// Token t's position for pair i: positions[t], or with M-RoPE sections (RopeParams::plane_of,
// sectioned or interleaved) the plane of the pair's section, positions[plane * n + t].
__device__ __forceinline__ int32_t rope_position(const int32_t* positions, int64_t t, int64_t n,
                                                 int64_t i, const RopeParams& p) {
  const int32_t total = p.sections[0] + p.sections[1] + p.sections[2] + p.sections[3];
  if (total == 0) return positions[t];
  int64_t s = i % total, plane = 0;
  if (p.interleaved_sections) {
    plane = s % 3 == 1 && s < 3 * p.sections[1]   ? 1
            : s % 3 == 2 && s < 3 * p.sections[2] ? 2
            : s % 3 == 0 && s < 3 * p.sections[0] ? 0
                                                  : 3;
  } else {
    while (plane < 3 && s >= p.sections[plane]) s -= p.sections[plane++];
  }
  return positions[plane * n + t];
}

}  // namespace sluice::cuda
