// f32 <-> IEEE half rows (Highway, dynamic dispatch) for the CPU's f16 KV cache: the same bits as
// common/half.h's f32_to_f16 / f16_to_f32 (round to nearest even).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/convert_f16.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include "backend/cpu/cpu_kernels.h"
#include "common/half.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void F32ToF16Span(const float* x, int64_t count, uint16_t* out) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= count; i += N)
    hn::StoreU(hn::DemoteTo(dh, hn::LoadU(df, x + i)), dh,
               reinterpret_cast<hwy::float16_t*>(out + i));
  for (; i < count; ++i) out[i] = f32_to_f16(x[i]);
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(F32ToF16Span);

void f32_to_f16_span(const float* x, int64_t count, uint16_t* out) {
  HWY_DYNAMIC_DISPATCH(F32ToF16Span)(x, count, out);
}
}  // namespace sluice::cpu
#endif
