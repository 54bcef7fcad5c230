#pragma once
// Row ops on host memory for layers above the backend (the engine's sampler): vectorized, the
// same results as the CPU backend's kernels.
#include <cstdint>

namespace sluice {

// Index of the first largest value of x[n], NaN never chosen (0 when every value is -inf or NaN).
int64_t host_argmax_row(const float* x, int64_t n);

}  // namespace sluice
