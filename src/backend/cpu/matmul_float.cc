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

// Register tile: NW weight rows x NX activation rows over columns [k0, k1). Every converted
// weight vector feeds NX FMAs and every activation vector NW FMAs.
// y[k * ldy + j] (+)= dot(x row k, w row j).
template <int NX, int NW, typename T>
HWY_INLINE void dot_tile(const float* HWY_RESTRICT x, int64_t ldx, const T* HWY_RESTRICT w,
                         int64_t ldw, int64_t k0, int64_t k1, float* HWY_RESTRICT y, int64_t ldy,
                         bool accumulate) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<decltype(df)> acc[NW][NX];
  for (int j = 0; j < NW; ++j)
    for (int k = 0; k < NX; ++k) acc[j][k] = hn::Zero(df);
  int64_t c = k0;
  for (; c + N <= k1; c += N) {
    hn::Vec<decltype(df)> wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = load_w(df, w + j * ldw + c);
    for (int k = 0; k < NX; ++k) {
      const auto xv = hn::LoadU(df, x + k * ldx + c);
      for (int j = 0; j < NW; ++j) acc[j][k] = hn::MulAdd(wv[j], xv, acc[j][k]);
    }
  }
  for (int j = 0; j < NW; ++j) {
    for (int k = 0; k < NX; ++k) {
      float s = hn::GetLane(hn::SumOfLanes(df, acc[j][k]));
      for (int64_t cc = c; cc < k1; ++cc) s += scalar_w(w + j * ldw + cc) * x[k * ldx + cc];
      float& out = y[k * ldy + j];
      out = accumulate ? out + s : s;
    }
  }
}

// Weight-row register blocking per activation-row count: 4 activation rows x 6 weight rows (24
// accumulators, 10 loads per 24 FMAs; 8 x 3 reloaded the activations, 4 x 2 had too few chains),
// and at least 4 independent FMA chains for decode.
template <int NX>
constexpr int kRowsW = NX <= 2 ? 4 : 6;

template <int NX, typename T>
HWY_INLINE void rows_pass(const float* x, int64_t ldx, const T* w, int64_t ldw, int64_t r0,
                          int64_t r1, int64_t k0, int64_t k1, float* y, int64_t ldy, bool acc) {
  constexpr int NW = kRowsW<NX>;
  int64_t r = r0;
  for (; r + NW <= r1; r += NW) dot_tile<NX, NW>(x, ldx, w + r * ldw, ldw, k0, k1, y + r, ldy, acc);
  for (; r < r1; ++r) dot_tile<NX, 1>(x, ldx, w + r * ldw, ldw, k0, k1, y + r, ldy, acc);
}

constexpr int64_t kColBlock = 1024;  // columns per pass: 4 activation rows stay in L1

template <typename T>
void tile_t(const float* x, int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
            float* y) {
  const T* wd = reinterpret_cast<const T*>(w.data);
  const int64_t ld = w.cols;
  for (int64_t k0 = 0; k0 < w.cols; k0 += kColBlock) {
    const int64_t k1 = std::min(w.cols, k0 + kColBlock);
    const bool acc = k0 > 0;
    for (int64_t i = i0; i < i1; i += 4) {
      const float* xi = x + i * ld;
      float* yi = y + i * w.rows;
      switch (std::min<int64_t>(4, i1 - i)) {
        case 4:
          rows_pass<4>(xi, ld, wd, ld, r0, r1, k0, k1, yi, w.rows, acc);
          break;
        case 3:
          rows_pass<3>(xi, ld, wd, ld, r0, r1, k0, k1, yi, w.rows, acc);
          break;
        case 2:
          rows_pass<2>(xi, ld, wd, ld, r0, r1, k0, k1, yi, w.rows, acc);
          break;
        default:
          rows_pass<1>(xi, ld, wd, ld, r0, r1, k0, k1, yi, w.rows, acc);
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
