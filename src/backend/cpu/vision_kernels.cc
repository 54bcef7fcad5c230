// The vision ops' CPU kernels (Highway, dynamic dispatch): avg_pool_2d; gelu_tanh is GeGLU's
// kernel without the product (ops_norm_rope.cc).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/vision_kernels.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <cstdint>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/vision_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Each pooled row: the sum of its kernel x kernel input rows in row-major order, times 1/k^2.
void AvgPoolRows(const float* x, int64_t width, int64_t dim, int64_t kernel, int64_t r0, int64_t r1,
                 float* out) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df)), out_w = width / kernel;
  const float inv = 1.0f / static_cast<float>(kernel * kernel);
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t oy = r / out_w, ox = r % out_w;
    const float* first = x + (oy * kernel * width + ox * kernel) * dim;  // the block's top left
    float* o = out + r * dim;
    int64_t c = 0;
    for (; c + N <= dim; c += N) {
      auto acc = hn::Zero(df);
      for (int64_t dy = 0; dy < kernel; ++dy)
        for (int64_t dx = 0; dx < kernel; ++dx)
          acc = hn::Add(acc, hn::LoadU(df, first + (dy * width + dx) * dim + c));
      hn::StoreU(hn::Mul(acc, hn::Set(df, inv)), df, o + c);
    }
    for (; c < dim; ++c) {
      float acc = 0.0f;
      for (int64_t dy = 0; dy < kernel; ++dy)
        for (int64_t dx = 0; dx < kernel; ++dx) acc += first[(dy * width + dx) * dim + c];
      o[c] = acc * inv;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(AvgPoolRows);
void gelu_tanh_span(const float* x, int64_t count, float* out) {
  gelu_mul_span(x, nullptr, count, out);  // the tanh GELU lives with GeGLU's
}
void avg_pool_rows(const float* x, int64_t width, int64_t dim, int64_t kernel, int64_t r0,
                   int64_t r1, float* out) {
  HWY_DYNAMIC_DISPATCH(AvgPoolRows)(x, width, dim, kernel, r0, r1, out);
}
}  // namespace sluice::cpu
#endif
