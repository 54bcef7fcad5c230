#include "backend/cpu/encoder_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

// glibc's libmvec: erf of 16 floats (AVX-512; at most 4 ulp from erff).
extern "C" __m512 _ZGVeN16v_erff(__m512);

namespace sluice::cpu {
namespace {

// sum of a[i] * b[i] in 8 lanes, then the lanes in a fixed order.
float dot(const float* a, const float* b, int64_t n) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += a[i + l] * b[i + l];
  for (; i < n; ++i) lane[i & 7] += a[i] * b[i];
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

float sum(const float* a, int64_t n) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += a[i + l];
  for (; i < n; ++i) lane[i & 7] += a[i];
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

}  // namespace

void layer_norm_rows(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                     float eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    float* yi = y + i * dim;
    const float mean = sum(xi, dim) / static_cast<float>(dim);
    float lane[8] = {};
    for (int64_t k = 0; k < dim; ++k) {
      const float d = xi[k] - mean;
      lane[k & 7] += d * d;
    }
    const float var = (((lane[0] + lane[4]) + (lane[1] + lane[5])) +
                       ((lane[2] + lane[6]) + (lane[3] + lane[7]))) /
                      static_cast<float>(dim);
    const float inv = 1.0f / std::sqrt(var + eps);
    for (int64_t k = 0; k < dim; ++k) yi[k] = (xi[k] - mean) * inv * weight[k] + bias[k];
  }
}

namespace {

// 0.5 x (1 + erf(x / sqrt 2)) of 16 values at a time; a short tail is padded, so every element
// takes the same vector erf wherever it falls in a span.
__attribute__((target("avx512f"))) void gelu_erf_avx512(const float* x, int64_t count, float* out) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f),
               inv_sqrt2 = _mm512_set1_ps(0.70710678118654752f);
  for (int64_t i = 0; i < count; i += 16) {
    const int64_t n = std::min<int64_t>(16, count - i);
    alignas(64) float buf[16] = {};
    std::copy(x + i, x + i + n, buf);
    const __m512 v = _mm512_load_ps(buf);
    const __m512 e = _ZGVeN16v_erff(_mm512_mul_ps(v, inv_sqrt2));
    _mm512_store_ps(buf, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
    std::copy(buf, buf + n, out + i);
  }
}

}  // namespace

void gelu_erf_span(const float* x, int64_t count, float* out) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return gelu_erf_avx512(x, count, out);
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  for (int64_t i = 0; i < count; ++i) out[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
}

void pool_sequence(const float* x, int64_t dim, int64_t b, int64_t e, Pooling mode, float* out) {
  if (mode == Pooling::kCls || mode == Pooling::kLast) {
    const float* r = x + (mode == Pooling::kCls ? b : e - 1) * dim;
    std::copy(r, r + dim, out);
    return;
  }
  std::fill(out, out + dim, 0.0f);
  for (int64_t t = b; t < e; ++t)
    for (int64_t c = 0; c < dim; ++c) out[c] += x[t * dim + c];
  const float inv = 1.0f / static_cast<float>(std::max<int64_t>(e - b, 1));
  for (int64_t c = 0; c < dim; ++c) out[c] *= inv;
}

void l2_normalize_rows(float* x, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    float* xi = x + i * dim;
    const float inv = 1.0f / std::max(std::sqrt(dot(xi, xi, dim)), 1e-12f);
    for (int64_t c = 0; c < dim; ++c) xi[c] *= inv;
  }
}

}  // namespace sluice::cpu
