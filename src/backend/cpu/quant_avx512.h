#pragma once
// AVX-512 helpers of the batched quantized kernels' wide path: 8 weight rows x 16 activation
// rows per kernel call, lanes = activation rows (two of the AVX2 path's groups of 8), integer
// sums with vpdpwssd / vpdpbusd (one instruction per 32 or 64 products). The float ops per
// output are the AVX2 kernels' own, so both paths give the same bits.
#include "backend/cpu/cpu_features.h"

#if SLUICE_X86
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backend/cpu/quant_avx2.h"
#include "backend/weight.h"

#define SLUICE_INLINE512 SLUICE_AVX512_TARGET inline __attribute__((always_inline))

namespace sluice::cpu::avx512 {

// The lanes of two 8-row groups' 32-byte fields as one vector (lo: lanes 0..7); the second
// group's lanes are zero when `two` is false.
template <bool Two>
SLUICE_INLINE512 __m512i pair_i(const void* lo, const void* hi) {
  const __m256i a = _mm256_load_si256(static_cast<const __m256i*>(lo));
  if constexpr (!Two) return _mm512_inserti64x4(_mm512_setzero_si512(), a, 0);
  return _mm512_inserti64x4(_mm512_castsi256_si512(a),
                            _mm256_load_si256(static_cast<const __m256i*>(hi)), 1);
}
template <bool Two>
SLUICE_INLINE512 __m512 pair_f(const float* lo, const float* hi) {
  return _mm512_castsi512_ps(pair_i<Two>(lo, hi));
}

// acc += the pair sums of int16 lanes of a and b (vpdpwssd); in asm so that GCC keeps the
// accumulators in registers (as the AVX2 kernels' dpwssd_acc).
SLUICE_INLINE512 void dpwssd(__m512i& acc, __m512i a, __m512i b) {
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}
// acc += the four-product sums of u8 lanes of u and s8 lanes of s (vpdpbusd).
SLUICE_INLINE512 void dpbusd(__m512i& acc, __m512i u, __m512i s) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
}

// Outputs: acc[r] (lanes = activation rows) to y[l * ldy + r] for r < nr, l < na.
SLUICE_INLINE512 void store_batch8x16(const __m512 (&acc)[8], float* y, int64_t ldy, int nr,
                                      int na) {
  alignas(64) float tmp[8][16];
  for (int r = 0; r < 8; ++r) _mm512_store_ps(tmp[r], acc[r]);
  for (int l = 0; l < na; ++l)
    for (int r = 0; r < nr; ++r) y[l * ldy + r] = tmp[r][l];
}

// acc[r] += float(s[r]) * (dw(r) * dx) + ow(r) * sx for the 8 weight rows: the AVX2 batched
// kernels' float ops per output, in their order.
template <class Dw, class Ow>
SLUICE_INLINE512 void fold_sums8(__m512 (&acc)[8], const __m512i (&s)[8], __m512 dx, __m512 sx,
                                 Dw dw, Ow ow) {
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) {
    const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(dw(r)), dx);
    acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]), sc, acc[r]);
    acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ow(r)), sx, acc[r]);
  }
}

// The int8-activation wide kernel of both 8-bit-code layouts: 8 weight rows (two unpacked
// halves w0/w1 of Block, unsigned codes in Block::*codes, scales dw, offsets ow) x 16
// activation rows (groups xg[0] and, when Two, xg[nb]); lanes are activation rows, sums by the
// 512-bit vpdpbusd. Biased: the codes are signed ones + 128, so 128 * sum(q) is taken off.
template <bool Two, bool Biased, class Block, class Group, auto Codes>
SLUICE_AVX512_TARGET void batch8x16_int8(const Block* w0, const Block* w1, const Group* xg,
                                         int64_t nb, float* y, int64_t ldy, int nr, int na) {
  const __m512i b128 = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Block* W[2] = {w0 + b, w1 + b};
    const Group& a0 = xg[b];
    const Group& a1 = xg[Two ? nb + b : b];
    __m512i s[8], bias = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) s[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int p = 0; p < 8; ++p) {
      const __m512i xv = pair_i<Two>(a0.q[p], a1.q[p]);
      if constexpr (Biased) dpbusd(bias, b128, xv);
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
        dpbusd(s[r], _mm512_set1_epi32(avx2::load32(&(W[r / 4]->*Codes)[r % 4][4 * p])), xv);
    }
    if constexpr (Biased)
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) s[r] = _mm512_sub_epi32(s[r], bias);
    fold_sums8(
        acc, s, pair_f<Two>(a0.d, a1.d), pair_f<Two>(a0.sum, a1.sum),
        [&](int r) { return W[r / 4]->dw[r % 4]; }, [&](int r) { return W[r / 4]->ow[r % 4]; });
  }
  store_batch8x16(acc, y, ldy, nr, na);
}

// unpack8 for row-major weights: the AVX2 path's unpacker Unpack4(wr, nb, blocks, pf) on each
// half of the group of rows r..r+7 (wr[8]); each half prefetches its rows of the next group (the
// kernels run before their use).
template <class Block, void (*Unpack4)(const uint8_t* const*, int64_t, Block*, const uint8_t*)>
inline void unpack_halves(const Weight& w, int64_t r, const uint8_t* const* wr, int64_t nb,
                          Block* half0, Block* half1) {
  Unpack4(wr, nb, half0, w.row(std::min(r + 8, w.rows - 1)));
  Unpack4(wr + 4, nb, half1, w.row(std::min(r + 12, w.rows - 1)));
}

// The batched walk of the wide path: activation rows [i0, ig) (ig as in avx2::for_each_batch4)
// in pairs of 8-row groups of xg [groups, nb] times weight rows [r0, r1) in groups of 8, each
// unpacked once as two halves of 4 rows (unpack8(w, r, wr, nb, half0, half1), blocks[nb] per
// half),
// then pair(half0, half1, x, nb, y, ldy, nr, na) for two groups, or lone(...) for a last odd
// group, on outputs y[i, r]. Returns ig.
template <class Block, class Group>
using Batch8x16 = void (*)(const Block*, const Block*, const Group*, int64_t, float*, int64_t, int,
                           int);
template <class Block, class Group, class Unpack8>
inline int64_t for_each_batch8x16(const Weight& w, int64_t i0, int64_t i1, int64_t r0, int64_t r1,
                                  const Group* xg, float* y, Unpack8&& unpack8,
                                  Batch8x16<Block, Group> lone, Batch8x16<Block, Group> pair) {
  const int64_t nb = w.cols / kQuantBlock;
  const int64_t rem = (i1 - i0) % 8;
  const int64_t ig = rem >= avx2::kPadFrom ? i1 : i1 - rem;
  if (ig <= i0) return ig;
  thread_local std::vector<Block> scratch;  // [2][nb]
  if (scratch.size() < static_cast<size_t>(2 * nb)) scratch.resize(2 * nb);
  const int64_t ngroups = (ig - i0 + 7) / 8;
  for (int64_t r = r0; r < r1; r += 8) {
    const int nr = static_cast<int>(std::min<int64_t>(8, r1 - r));
    const uint8_t* wr[8];
    for (int j = 0; j < 8; ++j) wr[j] = w.row(r + std::min(j, nr - 1));
    unpack8(w, r, wr, nb, scratch.data(), scratch.data() + nb);
    for (int64_t gi = 0; gi < ngroups; gi += 2) {
      const int64_t i = i0 + 8 * gi;
      const int na = static_cast<int>(std::min<int64_t>(16, ig - i));
      (gi + 1 < ngroups ? pair : lone)(scratch.data(), scratch.data() + nb, xg + (i / 8) * nb, nb,
                                       y + i * w.rows + r, w.rows, nr, na);
    }
  }
  return ig;
}

}  // namespace sluice::cpu::avx512
#endif
