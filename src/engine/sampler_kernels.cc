// Highway kernels behind sampler_kernels.h. Every element, the tail included, goes through the
// same vector Exp, so a token's probability does not depend on where it sits in the row.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/sampler_kernels.cc"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_AVX3_DL)  // as in the CPU backend
#endif
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include "engine/sampler_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/host_rows.h"
#include "common/assert.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::sampler_kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr size_t kMaxLanes = 64;  // padded tail buffer; more than any x86 target needs
constexpr size_t kBlock = 1024;   // terms summed in float lanes before going to double

// The max of x[0, n) with NaN read as -inf (-inf when nothing else); with Sanitize the NaNs are
// also overwritten by -inf.
template <bool Sanitize, class Ptr>
float MaxIgnoringNaN(Ptr HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto neg_inf = hn::Set(d, -std::numeric_limits<float>::infinity());
  auto vmax = neg_inf;
  size_t i = 0;
  for (; i + N <= n; i += N) {
    auto v = hn::LoadU(d, x + i);
    const auto nan = hn::IsNaN(v);
    if (!hn::AllFalse(d, nan)) {
      v = hn::IfThenElse(nan, neg_inf, v);
      if constexpr (Sanitize) hn::StoreU(v, d, x + i);
    }
    vmax = hn::Max(vmax, v);
  }
  float m = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (; i < n; ++i) {
    if (std::isnan(x[i])) {
      if constexpr (Sanitize) x[i] = -std::numeric_limits<float>::infinity();
      continue;
    }
    m = std::max(m, x[i]);
  }
  return m;
}

float SanitizeAndMax(float* HWY_RESTRICT x, size_t n) {
  return MaxIgnoringNaN<true>(x, n);
}

double ExpAndSum(const float* HWY_RESTRICT x, size_t n, float shift, float scale,
                 float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  SLUICE_ASSERT(N <= kMaxLanes && kBlock % N == 0, "unexpected SIMD width");
  const auto vshift = hn::Set(d, shift);
  const auto vscale = hn::Set(d, scale);
  auto term = [&](const float* src) {
    return hn::Exp(d, hn::Mul(hn::Sub(hn::LoadU(d, src), vshift), vscale));
  };
  double total = 0.0;
  const size_t full = n - n % N;
  for (size_t b = 0; b < full; b += kBlock) {
    const size_t end = std::min(full, b + kBlock);
    auto acc = hn::Zero(d);
    for (size_t i = b; i < end; i += N) {
      const auto e = term(x + i);
      if (out != nullptr) hn::StoreU(e, d, out + i);
      acc = hn::Add(acc, e);
    }
    total += hn::GetLane(hn::SumOfLanes(d, acc));
  }
  if (full < n) {  // tail through the same vector path, padded with -inf (exp -> 0)
    HWY_ALIGN float buf[kMaxLanes];
    std::fill(buf, buf + N, -std::numeric_limits<float>::infinity());
    std::copy(x + full, x + n, buf);
    const auto e = term(buf);
    hn::Store(e, d, buf);
    if (out != nullptr) std::copy(buf, buf + (n - full), out + full);
    total += hn::GetLane(hn::SumOfLanes(d, e));
  }
  return total;
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::sampler_kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::sampler_kernels {
HWY_EXPORT(SanitizeAndMax);
HWY_EXPORT(ExpAndSum);
size_t argmax(const float* x, size_t n) {
  return static_cast<size_t>(host_argmax_row(x, static_cast<int64_t>(n)));
}

float sanitize_and_max(float* x, size_t n) {
  return HWY_DYNAMIC_DISPATCH(SanitizeAndMax)(x, n);
}

double exp_and_sum(const float* x, size_t n, float shift, float scale, float* out) {
  return HWY_DYNAMIC_DISPATCH(ExpAndSum)(x, n, shift, scale, out);
}
}  // namespace sluice::sampler_kernels
#endif
