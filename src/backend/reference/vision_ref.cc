// Reference vision ops: gelu_tanh, avg_pool_2d.
#include <cmath>

#include "backend/reference/ref_ops.h"
#include "common/assert.h"

namespace sluice::ref {

void gelu_tanh(const float* x, int64_t count, float* out) {
  const double c = std::sqrt(2.0 / M_PI);
  for (int64_t i = 0; i < count; ++i) {
    const double g = x[i];
    out[i] = static_cast<float>(0.5 * g * (1.0 + std::tanh(c * (g + 0.044715 * g * g * g))));
  }
}

void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                 float* out) {
  SLUICE_ASSERT(kernel > 0 && height % kernel == 0 && width % kernel == 0,
                "avg_pool_2d: the grid must be a multiple of the kernel");
  const int64_t out_w = width / kernel;
  for (int64_t oy = 0; oy < height / kernel; ++oy)
    for (int64_t ox = 0; ox < out_w; ++ox)
      for (int64_t c = 0; c < dim; ++c) {
        double acc = 0.0;
        for (int64_t dy = 0; dy < kernel; ++dy)
          for (int64_t dx = 0; dx < kernel; ++dx)
            acc += x[((oy * kernel + dy) * width + ox * kernel + dx) * dim + c];
        out[(oy * out_w + ox) * dim + c] =
            static_cast<float>(acc / static_cast<double>(kernel * kernel));
      }
}

}  // namespace sluice::ref
