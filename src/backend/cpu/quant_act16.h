#pragma once
// The int16-activation kernels' shared pieces (matmul_quant.cc: the row-major formats;
// matmul_quant_interleaved.cc: Q4G32R8): the scalar dot in the canonical order, the batched
// kernels' unpacked weight block and the batched kernels on it.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_layout.h"
#include "common/half.h"

#if SLUICE_X86
#include "backend/cpu/quant_avx2.h"
#include "backend/cpu/quant_avx512.h"
#endif

namespace sluice::cpu::act16 {

// Code of element j, scale and offset of group g of one block.
template <DType T>
int block_code(const uint8_t* blk, int j) {
  if constexpr (T == DType::Q4G32) {
    const auto* b = reinterpret_cast<const BlockQ4G32*>(blk);
    return j < 16 ? b->codes[j] & 15 : b->codes[j - 16] >> 4;
  } else if constexpr (T == DType::Q8G32) {
    return reinterpret_cast<const BlockQ8G32*>(blk)->codes[j];
  } else if constexpr (T == DType::MXFP4) {
    const auto* b = reinterpret_cast<const BlockMxfp4*>(blk);
    return kMxfp4Codes[j < 16 ? b->codes[j] & 15 : b->codes[j - 16] >> 4];
  } else {
    return reinterpret_cast<const BlockQ8G16*>(blk)->codes[j];
  }
}
template <DType T>
float block_scale(const uint8_t* blk, int g) {
  if constexpr (T == DType::MXFP4) return mxfp4_scale(blk[0]);
  uint16_t h[4];
  std::memcpy(h, blk, kGroups<T> * 4);  // Q8G16: scale[2], offset[2]; else scale, offset
  return f16_to_f32(h[g]);
}
template <DType T>
float block_offset(const uint8_t* blk, int g) {
  if constexpr (T == DType::MXFP4) return 0.0f;
  uint16_t h[4];
  std::memcpy(h, blk, kGroups<T> * 4);
  return f16_to_f32(h[kGroups<T> + g]);
}

// One output in the canonical order (matmul_quant.cc's header comment).
template <DType T>
float dot_scalar(const uint8_t* w, const BlockAct16* x, int64_t nb) {
  constexpr int G = kGroups<T>, L = 32 / G;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = w + b * kBlockBytes<T>;
    const BlockAct16& a = x[b];
    for (int g = 0; g < G; ++g) {
      int32_t s = 0;
      for (int j = g * L; j < (g + 1) * L; ++j) s += block_code<T>(blk, j) * a.q[j];
      const float sx = G == 2 ? a.sum[g] : a.sum[0] + a.sum[1];
      acc = std::fma(static_cast<float>(s), block_scale<T>(blk, g) * a.d, acc);
      acc = std::fma(block_offset<T>(blk, g), sx, acc);
    }
  }
  return acc;
}

#if SLUICE_X86
using namespace avx2;

// One block of 4 weight rows unpacked for the batched kernel.
struct alignas(64) WeightBlock4 {
  int16_t q[4][32];  // [row][element]
  float dw[2][4];    // [group][row]
  float ow[2][4];
};

// Batched: 4 unpacked weight rows x XV groups of 8 activation rows; lanes are activation rows.
// y[(8j + l) * ldy + r] for r < nr, 8j + l < na.
template <DType T, int XV>
SLUICE_AVX2_TARGET void batch4_avx2(const WeightBlock4* wb, const ActGroup8* xg, int64_t nb,
                                    float* y, int64_t ldy, int nr, int na) {
  constexpr int G = kGroups<T>, P = 16 / G;  // k pairs per group
  __m256 acc[4][XV];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < XV; ++j) acc[r][j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const WeightBlock4& W = wb[b];
    const ActGroup8* a[XV];
    for (int j = 0; j < XV; ++j) a[j] = xg + j * nb + b;
#pragma GCC unroll 2
    for (int g = 0; g < G; ++g) {
      __m256i s[4][XV];
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < XV; ++j) s[r][j] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int p = g * P; p < (g + 1) * P; ++p) {
        __m256i xv[XV];
        for (int j = 0; j < XV; ++j)
          xv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(a[j]->q[p]));
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) {
          const __m256i wv = _mm256_set1_epi32(load32(&W.q[r][2 * p]));
          for (int j = 0; j < XV; ++j) dpwssd_acc<Dot8::Maddubs>(s[r][j], wv, xv[j]);
        }
      }
      for (int j = 0; j < XV; ++j) {
        const __m256 dx = _mm256_load_ps(a[j]->d);
        const __m256 sx = _mm256_load_ps(a[j]->sum[G == 2 ? g : 2]);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) {
          const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(W.dw[g][r]), dx);
          acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][j]), sc, acc[r][j]);
          acc[r][j] = _mm256_fmadd_ps(_mm256_set1_ps(W.ow[g][r]), sx, acc[r][j]);
        }
      }
    }
  }
  store_batch4(acc, y, ldy, nr, na);
}

// The wide path: 8 weight rows (two unpacked halves) x 16 activation rows (groups xg[0] and,
// when Two, xg[nb]); lanes are activation rows, integer sums by vpdpwssd. The float ops of
// batch4_avx2, so the same bits.
template <DType T, bool Two>
SLUICE_AVX512_TARGET void batch8x16_avx512(const WeightBlock4* w0, const WeightBlock4* w1,
                                           const ActGroup8* xg, int64_t nb, float* y, int64_t ldy,
                                           int nr, int na) {
  using namespace avx512;
  constexpr int G = kGroups<T>, P = 16 / G;
  __m512 acc[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const WeightBlock4* W[2] = {w0 + b, w1 + b};
    const ActGroup8& a0 = xg[b];
    const ActGroup8& a1 = xg[Two ? nb + b : b];
#pragma GCC unroll 2
    for (int g = 0; g < G; ++g) {
      __m512i s[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) s[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int p = g * P; p < (g + 1) * P; ++p) {
        const __m512i xv = pair_i<Two>(a0.q[p], a1.q[p]);
#pragma GCC unroll 8
        for (int r = 0; r < 8; ++r)
          dpwssd(s[r], xv, _mm512_set1_epi32(load32(&W[r / 4]->q[r % 4][2 * p])));
      }
      fold_sums8(
          acc, s, pair_f<Two>(a0.d, a1.d),
          pair_f<Two>(a0.sum[G == 2 ? g : 2], a1.sum[G == 2 ? g : 2]),
          [&](int r) { return W[r / 4]->dw[g][r % 4]; },
          [&](int r) { return W[r / 4]->ow[g][r % 4]; });
    }
  }
  store_batch8x16(acc, y, ldy, nr, na);
}
#endif

}  // namespace sluice::cpu::act16
