// The first index of a row's max, one vector pass (Highway, dynamic dispatch): each lane keeps
// its own max and the first index it was seen at; NaN is never greater, so it is skipped.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/argmax.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include <cmath>
#include <limits>

#include "backend/cpu/cpu_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t ArgmaxRow(const float* HWY_RESTRICT x, int64_t n) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  auto best = hn::Set(df, kNegInf);
  auto at = hn::Zero(di);      // per lane: index of its best (first seen, strict >)
  auto idx = hn::Iota(di, 0);  // indices of the current vector
  const auto step = hn::Set(di, static_cast<int32_t>(N));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::LoadU(df, x + i);
    const auto gt = hn::Gt(v, best);
    best = hn::IfThenElse(gt, v, best);
    at = hn::IfThenElse(hn::RebindMask(di, gt), idx, at);
    idx = hn::Add(idx, step);
  }
  // Lanes holding the overall max: the smallest index among them is the first occurrence.
  HWY_ALIGN float lane_best[hn::MaxLanes(df)];
  HWY_ALIGN int32_t lane_at[hn::MaxLanes(di)];
  hn::Store(best, df, lane_best);
  hn::Store(at, di, lane_at);
  float m = kNegInf;
  int64_t pick = 0;
  for (int64_t l = 0; l < N; ++l)
    if (lane_best[l] > m || (lane_best[l] == m && m > kNegInf && lane_at[l] < pick))
      m = lane_best[l], pick = lane_at[l];
  for (; i < n; ++i)
    if (x[i] > m) m = x[i], pick = i;
  return pick;
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(ArgmaxRow);
int64_t argmax_row(const float* x, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(ArgmaxRow)(x, n);
}
}  // namespace sluice::cpu
#endif
