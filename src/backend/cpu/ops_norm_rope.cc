// Row-wise and element-wise ops (Highway, dynamic dispatch): rms_norm, rope, silu_mul, gelu_mul,
// scale, add, bias.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/ops_norm_rope.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <cmath>
#include <vector>

#include "backend/cpu/cpu_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void RmsNormRows(const float* x, int64_t n, int64_t dim, const float* weight, float eps, float* y) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    float* yi = y + i * dim;
    auto s0 = hn::Zero(df), s1 = hn::Zero(df);
    int64_t k = 0;
    for (; k + 2 * N <= dim; k += 2 * N) {
      const auto a = hn::LoadU(df, xi + k), b = hn::LoadU(df, xi + k + N);
      s0 = hn::MulAdd(a, a, s0);
      s1 = hn::MulAdd(b, b, s1);
    }
    for (; k + N <= dim; k += N) {
      const auto a = hn::LoadU(df, xi + k);
      s0 = hn::MulAdd(a, a, s0);
    }
    double ss = hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1)));
    for (; k < dim; ++k) ss += static_cast<double>(xi[k]) * xi[k];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    const auto vinv = hn::Set(df, inv);
    k = 0;
    for (; k + N <= dim; k += N)
      hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, xi + k), vinv), hn::LoadU(df, weight + k)), df,
                 yi + k);
    for (; k < dim; ++k) yi[k] = xi[k] * inv * weight[k];
  }
}

// Non-interleaved (HF rotate_half): pairs (i, i + half). Interleaved: pairs (2i, 2i + 1), done as
// x * cos2 + swap_pairs(x) * sin2 with cos2 = [c0, c0, c1, c1, ..], sin2 = [-s0, s0, -s1, s1, ..].
void RopeRows(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const float* cos_t,
              const float* sin_t, int64_t rotary_dim, bool interleaved) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const int64_t half = rotary_dim / 2;
  std::vector<float> cos2, sin2;
  if (interleaved) {
    cos2.resize(static_cast<size_t>(rotary_dim));
    sin2.resize(static_cast<size_t>(rotary_dim));
  }
  for (int64_t t = 0; t < n; ++t) {
    const float* c = cos_t + t * half;
    const float* s = sin_t + t * half;
    if (interleaved) {
      for (int64_t i = 0; i < half; ++i) {
        cos2[2 * i] = cos2[2 * i + 1] = c[i];
        sin2[2 * i] = -s[i];
        sin2[2 * i + 1] = s[i];
      }
    }
    for (int64_t h = 0; h < num_heads; ++h) {
      float* xh = x + (t * num_heads + h) * head_dim;
      int64_t i = 0;
      if (interleaved) {
        if (N >= 2) {
          for (; i + N <= rotary_dim; i += N) {
            const auto v = hn::LoadU(df, xh + i);
            const auto r = hn::MulAdd(hn::Reverse2(df, v), hn::LoadU(df, sin2.data() + i),
                                      hn::Mul(v, hn::LoadU(df, cos2.data() + i)));
            hn::StoreU(r, df, xh + i);
          }
        }
        for (; i < rotary_dim; i += 2) {
          const float x0 = xh[i], x1 = xh[i + 1], cc = c[i / 2], ss = s[i / 2];
          xh[i] = x0 * cc - x1 * ss;
          xh[i + 1] = x0 * ss + x1 * cc;
        }
      } else {
        for (; i + N <= half; i += N) {
          const auto x0 = hn::LoadU(df, xh + i), x1 = hn::LoadU(df, xh + half + i);
          const auto cc = hn::LoadU(df, c + i), ss = hn::LoadU(df, s + i);
          hn::StoreU(hn::NegMulAdd(x1, ss, hn::Mul(x0, cc)), df, xh + i);
          hn::StoreU(hn::MulAdd(x0, ss, hn::Mul(x1, cc)), df, xh + half + i);
        }
        for (; i < half; ++i) {
          const float x0 = xh[i], x1 = xh[half + i];
          xh[i] = x0 * c[i] - x1 * s[i];
          xh[half + i] = x0 * s[i] + x1 * c[i];
        }
      }
    }
  }
}

void SiluMulSpan(const float* gate, const float* up, int64_t count, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto one = hn::Set(df, 1.0f), lim = hn::Set(df, 88.0f);
  int64_t i = 0;
  for (; i + N <= count; i += N) {
    const auto g = hn::LoadU(df, gate + i);
    const auto e = hn::Exp(df, hn::Min(hn::Neg(g), lim));  // exp(-g), no overflow
    hn::StoreU(hn::Mul(hn::Div(g, hn::Add(one, e)), hn::LoadU(df, up + i)), df, out + i);
  }
  for (; i < count; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g / (1 + exp(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3).
void GeluMulSpan(const float* gate, const float* up, int64_t count, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
  const auto one = hn::Set(df, 1.0f), lim = hn::Set(df, 88.0f), k1 = hn::Set(df, -2.0f * c),
             k3 = hn::Set(df, -2.0f * c * 0.044715f);
  int64_t i = 0;
  for (; i + N <= count; i += N) {
    const auto g = hn::LoadU(df, gate + i);
    const auto m2u = hn::Mul(g, hn::MulAdd(hn::Mul(g, g), k3, k1));  // -2u
    const auto y = hn::Div(g, hn::Add(one, hn::Exp(df, hn::Min(m2u, lim))));
    hn::StoreU(up ? hn::Mul(y, hn::LoadU(df, up + i)) : y, df, out + i);
  }
  for (; i < count; ++i) {
    const float g = gate[i];
    const float m2u = -2.0f * c * (g + 0.044715f * g * g * g);
    const float y = g / (1.0f + std::exp(std::min(m2u, 88.0f)));
    out[i] = up ? y * up[i] : y;
  }
}

void ScaleSpan(float* x, int64_t count, float s) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto vs = hn::Set(df, s);
  int64_t i = 0;
  for (; i + N <= count; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vs), df, x + i);
  for (; i < count; ++i) x[i] *= s;
}

void AddSpan(float* x, const float* y, int64_t count) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= count; i += N)
    hn::StoreU(hn::Add(hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, x + i);
  for (; i < count; ++i) x[i] += y[i];
}

void AddBiasRows(float* x, int64_t n, int64_t dim, const float* bias) {
  for (int64_t r = 0; r < n; ++r) AddSpan(x + r * dim, bias, dim);
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(RmsNormRows);
HWY_EXPORT(RopeRows);
HWY_EXPORT(SiluMulSpan);
HWY_EXPORT(GeluMulSpan);
HWY_EXPORT(ScaleSpan);
HWY_EXPORT(AddSpan);
HWY_EXPORT(AddBiasRows);

void rms_norm_rows(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                   float* y) {
  HWY_DYNAMIC_DISPATCH(RmsNormRows)(x, n, dim, weight, eps, y);
}
void rope_rows(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const float* cos_t,
               const float* sin_t, int64_t rotary_dim, bool interleaved) {
  HWY_DYNAMIC_DISPATCH(RopeRows)(x, n, num_heads, head_dim, cos_t, sin_t, rotary_dim, interleaved);
}
void silu_mul_span(const float* gate, const float* up, int64_t count, float* out) {
  HWY_DYNAMIC_DISPATCH(SiluMulSpan)(gate, up, count, out);
}
void gelu_mul_span(const float* gate, const float* up, int64_t count, float* out) {
  HWY_DYNAMIC_DISPATCH(GeluMulSpan)(gate, up, count, out);
}
void scale_span(float* x, int64_t count, float s) {
  HWY_DYNAMIC_DISPATCH(ScaleSpan)(x, count, s);
}
void add_span(float* x, const float* y, int64_t count) {
  HWY_DYNAMIC_DISPATCH(AddSpan)(x, y, count);
}
void add_bias_rows(float* x, int64_t n, int64_t dim, const float* bias) {
  HWY_DYNAMIC_DISPATCH(AddBiasRows)(x, n, dim, bias);
}
}  // namespace sluice::cpu
#endif
