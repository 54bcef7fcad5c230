#pragma once
// Vectorized passes over one row of logits for SequenceSampler (Highway, dispatched at run time
// to the best SIMD target of the CPU).
#include <cstddef>

namespace sluice::sampler_kernels {

// Replaces NaN by -inf in place; returns the max (-inf when all are -inf or NaN).
float sanitize_and_max(float* x, size_t n);

// Index of the first largest value, NaN never chosen (0 when every value is -inf or NaN).
size_t argmax(const float* x, size_t n);

// out[i] = exp((x[i] - shift) * scale) when out is not null; returns the sum of those terms
// (float lanes over short blocks, blocks added in double). `shift` must be finite.
double exp_and_sum(const float* x, size_t n, float shift, float scale, float* out);

}  // namespace sluice::sampler_kernels
