// Activation quantization to BlockAct16 (per 32: d = max|x|/32767, q = round(x/d)), AVX2 + scalar.
// Bit-identical to ref::quantize_act_row: same d, same 1/d multiply, round-half-even.
#include <algorithm>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/reference/ref_ops.h"

#if SLUICE_X86
#include <immintrin.h>
#endif

namespace sluice::cpu {
namespace {

#if SLUICE_X86
SLUICE_AVX2_TARGET void quantize_row_avx2(const float* x, int64_t cols, BlockAct16* out) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < cols / 32; ++b) {
    const float* xb = x + b * 32;
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(xb + 8 * k);
    __m256 m =
        _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                      _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 32767.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(
          _mm256_round_ps(_mm256_mul_ps(v[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    // Integer sums of each half (elements 0..15 and 16..31).
    const __m256i s01 = _mm256_add_epi32(q[0], q[1]), s23 = _mm256_add_epi32(q[2], q[3]);
    __m256i hs = _mm256_hadd_epi32(s01, s23);  // [s01 pairs lo, s23 pairs lo, s01 hi, s23 hi]
    hs = _mm256_hadd_epi32(hs, hs);
    const __m128i h4 = _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
    const int sum0 = _mm_cvtsi128_si32(h4), sum1 = _mm_extract_epi32(h4, 1);
    // packs interleaves 128-bit lanes: [q0 0..3, q1 0..3, q0 4..7, q1 4..7] -> element order.
    const __m256i p01 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
    const __m256i p23 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2], q[3]), 0xD8);
    BlockAct16& o = out[b];
    o.d = d;
    o.sum[0] = d * static_cast<float>(sum0);
    o.sum[1] = d * static_cast<float>(sum1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.q), p01);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.q + 16), p23);
  }
}
#endif

}  // namespace

void quantize_act_rows(const float* x, int64_t i0, int64_t i1, int64_t cols, BlockAct16* xq) {
  const int64_t nb = cols / 32;
  for (int64_t i = i0; i < i1; ++i) {
#if SLUICE_X86
    if (quant_kernel() == QuantKernel::Avx2) {
      quantize_row_avx2(x + i * cols, cols, xq + i * nb);
      continue;
    }
#endif
    ref::quantize_act_row(x + i * cols, cols, xq + i * nb);
  }
}

}  // namespace sluice::cpu
