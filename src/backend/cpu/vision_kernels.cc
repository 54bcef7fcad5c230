// The vision ops' CPU kernels (Highway, dynamic dispatch): gelu_tanh, avg_pool_2d.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/vision_kernels.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cmath>

#include "backend/cpu/vision_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g / (1 + exp(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3).
void GeluTanhSpan(const float* x, int64_t count, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
  const auto one = hn::Set(df, 1.0f), lim = hn::Set(df, 88.0f), k1 = hn::Set(df, -2.0f * c),
             k3 = hn::Set(df, -2.0f * c * 0.044715f);
  int64_t i = 0;
  for (; i + N <= count; i += N) {
    const auto g = hn::LoadU(df, x + i);
    const auto m2u = hn::Mul(g, hn::MulAdd(hn::Mul(g, g), k3, k1));  // -2u
    hn::StoreU(hn::Div(g, hn::Add(one, hn::Exp(df, hn::Min(m2u, lim)))), df, out + i);
  }
  for (; i < count; ++i) {
    const float g = x[i];
    const float m2u = -2.0f * c * (g + 0.044715f * g * g * g);
    out[i] = g / (1.0f + std::exp(std::min(m2u, 88.0f)));
  }
}

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
HWY_EXPORT(GeluTanhSpan);
HWY_EXPORT(AvgPoolRows);
void gelu_tanh_span(const float* x, int64_t count, float* out) {
  HWY_DYNAMIC_DISPATCH(GeluTanhSpan)(x, count, out);
}
void avg_pool_rows(const float* x, int64_t width, int64_t dim, int64_t kernel, int64_t r0,
                   int64_t r1, float* out) {
  HWY_DYNAMIC_DISPATCH(AvgPoolRows)(x, width, dim, kernel, r0, r1, out);
}
}  // namespace sluice::cpu
#endif
