// F32/F16/BF16 weights x f32 activations, fp32 accumulation (Highway, dynamic dispatch).
// Weights are converted on the fly (PromoteTo) and each converted vector feeds up to 4
// activation rows, so a batch of n rows streams the weight row once per 4 rows, not n times.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/matmul_float.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
// clang-format on

#include <algorithm>

#include "backend/cpu/cpu_kernels.h"
#include "common/assert.h"
#include "common/half.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <typename T>
HWY_INLINE float scalar_w(const T* p) {
  if constexpr (sizeof(T) == 4) {
    return *reinterpret_cast<const float*>(p);
  } else if constexpr (std::is_same_v<T, hwy::float16_t>) {
    uint16_t b;
    hwy::CopyBytes<2>(p, &b);
    return f16_to_f32(b);
  } else {
    uint16_t b;
    hwy::CopyBytes<2>(p, &b);
    return bf16_to_f32(b);
  }
}

template <class D, typename T>
HWY_INLINE hn::Vec<D> load_w(D df, const T* HWY_RESTRICT p) {
  if constexpr (sizeof(T) == 4) {
    return hn::LoadU(df, reinterpret_cast<const float*>(p));
  } else {
    const hn::Rebind<T, D> dt;
    return hn::PromoteTo(df, hn::LoadU(dt, p));
  }
}

// y[k * ldy] = dot(x + k * ldx, w) for k < NX.
template <int NX, typename T>
HWY_INLINE void dot_rows(const float* HWY_RESTRICT x, int64_t ldx, const T* HWY_RESTRICT w,
                         int64_t cols, float* HWY_RESTRICT y, int64_t ldy) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<decltype(df)> a0[NX], a1[NX];
  for (int k = 0; k < NX; ++k) a0[k] = a1[k] = hn::Zero(df);
  int64_t c = 0;
  for (; c + 2 * N <= cols; c += 2 * N) {
    const auto w0 = load_w(df, w + c);
    const auto w1 = load_w(df, w + c + N);
    for (int k = 0; k < NX; ++k) {
      a0[k] = hn::MulAdd(w0, hn::LoadU(df, x + k * ldx + c), a0[k]);
      a1[k] = hn::MulAdd(w1, hn::LoadU(df, x + k * ldx + c + N), a1[k]);
    }
  }
  for (; c + N <= cols; c += N) {
    const auto w0 = load_w(df, w + c);
    for (int k = 0; k < NX; ++k) a0[k] = hn::MulAdd(w0, hn::LoadU(df, x + k * ldx + c), a0[k]);
  }
  for (int k = 0; k < NX; ++k) {
    float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(a0[k], a1[k])));
    for (int64_t cc = c; cc < cols; ++cc) s += scalar_w(w + cc) * x[k * ldx + cc];
    y[k * ldy] = s;
  }
}

template <typename T>
void tile_t(const float* x, int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
            float* y) {
  for (int64_t i = i0; i < i1; i += 4) {
    const int64_t nx = std::min<int64_t>(4, i1 - i);
    const float* xi = x + i * w.cols;
    float* yi = y + i * w.rows;
    for (int64_t r = r0; r < r1; ++r) {
      const T* wr = reinterpret_cast<const T*>(w.row(r));
      switch (nx) {
        case 4:
          dot_rows<4>(xi, w.cols, wr, w.cols, yi + r, w.rows);
          break;
        case 3:
          dot_rows<3>(xi, w.cols, wr, w.cols, yi + r, w.rows);
          break;
        case 2:
          dot_rows<2>(xi, w.cols, wr, w.cols, yi + r, w.rows);
          break;
        default:
          dot_rows<1>(xi, w.cols, wr, w.cols, yi + r, w.rows);
          break;
      }
    }
  }
}

void MatmulFloatTile(const float* x, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                     int64_t r1, float* y) {
  switch (w.dtype) {
    case DType::F32:
      return tile_t<float>(x, i0, i1, w, r0, r1, y);
    case DType::F16:
      return tile_t<hwy::float16_t>(x, i0, i1, w, r0, r1, y);
    case DType::BF16:
      return tile_t<hwy::bfloat16_t>(x, i0, i1, w, r0, r1, y);
    default:
      SLUICE_ASSERT(false, "matmul_float_tile needs an F32/F16/BF16 weight");
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(MatmulFloatTile);
void matmul_float_tile(const float* x, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                       int64_t r1, float* y) {
  HWY_DYNAMIC_DISPATCH(MatmulFloatTile)(x, i0, i1, w, r0, r1, y);
}
}  // namespace sluice::cpu
#endif
