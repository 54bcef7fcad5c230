// Q4G32R8 weights (rows interleaved in eights) against int16 activations. Few activation rows:
// a kernel whose lanes are weight rows, without matmul_quant.cc's transposition of row sums.
// Batches: the Q4G32 batched kernels on blocks unpacked from the interleaved rows. Every output
// has matmul_quant.cc's Q4G32 integer sums and float ops, so the same bits.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_act16.h"
#include "backend/quant_blocks.h"
#include "common/assert.h"

namespace sluice::cpu {
namespace {

using act16::WeightBlock4;

// Q4G32R8 without the AVX2 kernels: each row's blocks as Q4G32, dot_scalar on them.
void tile_interleaved_scalar(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w,
                             int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8_row(w, r0, r1, [&](int64_t r, const uint8_t* row) {
    for (int64_t i = i0; i < i1; ++i)
      y[i * w.rows + r] = act16::dot_scalar<DType::Q4G32>(row, xq + i * nb, nb);
  });
}

#if SLUICE_X86
using namespace avx2;

// A block's activations as the dword pairs the interleaved kernel multiplies: pairs[2j],
// pairs[2j + 1] = (q[4j], q[4j + 2]), (q[4j + 1], q[4j + 3]); pairs[8 + i] likewise from q[16..].
SLUICE_AVX2_TARGET void act16_pairs(const BlockAct16& a, int32_t* pairs) {
  const __m256i order = _mm256_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15, 0, 1,
                                         4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(pairs + 8 * h),
        _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 16 * h)),
                            order));
}

// Q4G32R8, few activation rows: y[k * ldy + l] for the 8 weight rows of the blocks g[nb] and NX
// activation rows (x rows nb blocks apart, their act16_pairs nb * 16 apart). Lanes are weight
// rows: word w of row l's dword in codes[j] holds its code bytes 4j + 2w, 4j + 2w + 1, so nibble
// k of both words (a shift and a mask, no shuffle) pairs with one broadcast activation pair. The
// integer sums and float ops are rows8_avx2's, so the same bits. Prefetches the next group (pf).
template <int NX, Dot8 D>
SLUICE_AVX2_TARGET void rows8_interleaved(const BlockQ4G32R8* g, const int32_t* pairs,
                                          const BlockAct16* x, int64_t nb, float* y, int64_t ldy,
                                          const BlockQ4G32R8* pf) {
  constexpr int A = NX == 1 ? 4 : NX == 2 ? 2 : 1;
  const __m256i m = _mm256_set1_epi16(0x0f);
  __m256 acc[NX];
  for (int k = 0; k < NX; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    for (size_t c = 0; c < sizeof(BlockQ4G32R8); c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + b) + c, _MM_HINT_T0);
    __m256i s[NX][A];  // A independent sums per activation row (vpdpwssd's latency)
    for (int k = 0; k < NX; ++k)
      for (int i = 0; i < A; ++i) s[k][i] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g[b].codes[j]));
      // Nibble k of each word: elements 4j + 2w (k 0), + 16 (k 1), + 1 (k 2), + 17 (k 3).
      const __m256i c0 = _mm256_and_si256(v, m), c1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
      const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 8), m),
                    c3 = _mm256_srli_epi16(v, 12);
#pragma GCC unroll 4
      for (int k = 0; k < NX; ++k) {
        const int32_t* p = pairs + (k * nb + b) * 16;
        dpwssd_acc<D>(s[k][0], c0, _mm256_set1_epi32(p[2 * j]));
        dpwssd_acc<D>(s[k][1 % A], c2, _mm256_set1_epi32(p[2 * j + 1]));
        dpwssd_acc<D>(s[k][2 % A], c1, _mm256_set1_epi32(p[8 + 2 * j]));
        dpwssd_acc<D>(s[k][3 % A], c3, _mm256_set1_epi32(p[8 + 2 * j + 1]));
      }
    }
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].scale)));
    const __m256 ow =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].offset)));
    for (int k = 0; k < NX; ++k) {
      const BlockAct16& a = x[k * nb + b];
      for (int i = 1; i < A; ++i) s[k][0] = _mm256_add_epi32(s[k][0], s[k][i]);
      acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[k][0]), _mm256_mul_ps(dw, _mm256_set1_ps(a.d)),
                               acc[k]);
      acc[k] = _mm256_fmadd_ps(ow, _mm256_set1_ps(a.sum[0] + a.sum[1]), acc[k]);
    }
  }
  for (int k = 0; k < NX; ++k) _mm256_storeu_ps(y + k * ldy, acc[k]);
}

// The 8-row groups of w (Q4G32R8) in weight rows [r0, r1) (whole groups) x activation rows
// [i0, i1), four at a time.
template <Dot8 D>
void tile_rows8_interleaved(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w,
                            int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  thread_local std::vector<int32_t> pairs;  // [i1 - i0][nb][16]
  pairs.resize(static_cast<size_t>((i1 - i0) * nb * 16));
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t b = 0; b < nb; ++b) act16_pairs(xq[i * nb + b], &pairs[((i - i0) * nb + b) * 16]);
  for_each_rows8_interleaved(
      w, i0, i1, r0, r1,
      [&](auto nx, const BlockQ4G32R8* g, int64_t i, int64_t r, const BlockQ4G32R8* pf) {
        rows8_interleaved<decltype(nx)::value, D>(g, &pairs[(i - i0) * nb * 16], xq + i * nb, nb,
                                                  y + i * w.rows + r, w.rows, pf);
      });
}

// Row k's 32 codes of Q4G32 bytes (byte j: elements j and j + 16) as int16, and its scale and
// offset, into o's row k.
SLUICE_INLINE void unpack_row_codes(__m128i bytes, WeightBlock4& o, int k) {
  const __m256i c = _mm256_cvtepu8_epi16(bytes);
  _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[k]),
                     _mm256_and_si256(c, _mm256_set1_epi16(0x0f)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[k] + 16), _mm256_srli_epi16(c, 4));
}

// Q4G32R8 rows r..r+3 (r % 4 == 0) unpacked as the batched kernels take Q4G32 blocks: a 4 x 4
// dword transpose of the code dwords gives each row's bytes. Rows r..r+7 (r % 8 == 0) when
// half1 is given: both halves from one pass, 256 bits wide. The group's first pass prefetches
// the next group.
SLUICE_AVX2_TARGET void unpack_interleaved(const Weight& w, int64_t r, WeightBlock4* half0,
                                           WeightBlock4* half1) {
  const int64_t nb = w.cols / kQuantBlock;
  const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w.row(r / 8 * 8));
  const auto* next = reinterpret_cast<const char*>(w.row(std::min(r / 8 * 8 + 8, w.rows - 8)));
  const int l0 = static_cast<int>(r % 8);
  for (int64_t b = 0; b < nb; ++b) {
    if (l0 == 0)
      for (size_t c = 0; c < sizeof(BlockQ4G32R8); c += 64)
        _mm_prefetch(next + b * sizeof(BlockQ4G32R8) + c, _MM_HINT_T0);
    // v[j]: code bytes 4j..4j+3 of rows l0.. (dword l); per 128-bit lane the transpose gives
    // rows[k] = [row l0 + k's 16 code bytes | row l0 + 4 + k's].
    __m256i v[4];
    for (int j = 0; j < 4; ++j)
      v[j] = half1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g[b].codes[j]))
                   : _mm256_castsi128_si256(
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].codes[j] + 4 * l0)));
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    const __m256i rows[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                             _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
    for (int k = 0; k < 4; ++k) {
      unpack_row_codes(_mm256_castsi256_si128(rows[k]), half0[b], k);
      if (half1) unpack_row_codes(_mm256_extracti128_si256(rows[k], 1), half1[b], k);
    }
    for (int h = 0; h < (half1 ? 2 : 1); ++h) {
      WeightBlock4& o = h == 0 ? half0[b] : half1[b];
      const int l = l0 + 4 * h;
      _mm_store_ps(o.dw[0],
                   _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g[b].scale + l))));
      _mm_store_ps(
          o.ow[0],
          _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g[b].offset + l))));
    }
  }
}

// Q4G32R8 against int16 activations: batches on the Q4G32 batched kernels over blocks unpacked
// from the interleaved rows; the tail and few-row calls on rows8_interleaved.
void tile_interleaved(const QuantPaths& paths, const BlockAct16* xq, const ActGroup8* xg,
                      int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  int64_t ig = i0;
  if (xg && paths.avx512) {
    ig = avx512::for_each_batch8x16(
        w, i0, i1, r0, r1, xg, y,
        [&](const Weight&, int64_t r, const uint8_t* const*, int64_t, WeightBlock4* half0,
            WeightBlock4* half1) { unpack_interleaved(w, r, half0, half1); },
        act16::batch8x16_avx512<DType::Q4G32, false>, act16::batch8x16_avx512<DType::Q4G32, true>);
  } else if (xg) {
    const auto stride = static_cast<int64_t>(w.row_stride());
    ig = for_each_batch4<WeightBlock4>(
        w, nb, i0, i1, r0, r1,
        [&](const uint8_t* const* wr, WeightBlock4* blocks, const uint8_t*) {
          unpack_interleaved(w, (wr[0] - w.data) / stride, blocks, nullptr);
        },
        [&](auto xv, const WeightBlock4* blocks, int64_t i, int64_t r, int nr, int na) {
          act16::batch4_avx2<DType::Q4G32, decltype(xv)::value>(blocks, xg + (i / 8) * nb, nb,
                                                                y + i * w.rows + r, w.rows, nr, na);
        });
  }
  if (ig >= i1) return;
  with_dot8(paths.dot8,
            [&](auto d) { tile_rows8_interleaved<decltype(d)::value>(xq, ig, i1, w, r0, r1, y); });
}
#endif

}  // namespace

void matmul_quant_tile_interleaved(const QuantPaths& paths, const BlockAct16* xq,
                                   const ActGroup8* xg, int64_t i0, int64_t i1, const Weight& w,
                                   int64_t r0, int64_t r1, float* y) {
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2)
    return tile_interleaved(paths, xq, xg, i0, i1, w, r0, r1, y);
#endif
  tile_interleaved_scalar(xq, i0, i1, w, r0, r1, y);
}

}  // namespace sluice::cpu
