#pragma once
// CPU kernels of the vision ops (backend.h), Highway with dynamic dispatch (vision_kernels.cc).
#include <cstdint>

namespace sluice::cpu {

// out[count] = gelu_tanh(x) (out may alias x).
void gelu_tanh_span(const float* x, int64_t count, float* out);
// Pooled rows [r0, r1) of avg_pool_2d (row r = pooled cell (r / (width/kernel), r % ...)).
void avg_pool_rows(const float* x, int64_t width, int64_t dim, int64_t kernel, int64_t r0,
                   int64_t r1, float* out);

}  // namespace sluice::cpu
