#pragma once
// AVX2 helpers shared by the quantized matmul kernels (int16 and int8 activations).
#include "backend/cpu/cpu_features.h"

#if SLUICE_X86
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "backend/quant_blocks.h"
#include "backend/weight.h"
#include "common/assert.h"

#define SLUICE_INLINE SLUICE_AVX2_TARGET inline __attribute__((always_inline))

namespace sluice::cpu::avx2 {

SLUICE_INLINE int32_t load32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// acc += the four-product sums of u8 w and s8 x in int32 lanes: AVX-VNNI's VEX form or
// AVX512-VNNI's EVEX form of the 256-bit vpdpbusd (asm so that the AVX2 functions need no vnni
// target and the compiler never emits it elsewhere).
template <bool Evex>
SLUICE_INLINE void dpbusd_acc(__m256i& acc, __m256i w, __m256i x) {
  if constexpr (Evex)
    asm("%{evex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(w), "xm"(x));
  else
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(w), "xm"(x));
}

// f(std::integral_constant<Dot8, d>{}): a kernel templated on its integer dot, for the runtime
// choice d.
template <class F>
inline void with_dot8(Dot8 d, F&& f) {
  switch (d) {
    case Dot8::VexVnni:
      return f(std::integral_constant<Dot8, Dot8::VexVnni>{});
    case Dot8::EvexVnni:
      return f(std::integral_constant<Dot8, Dot8::EvexVnni>{});
    default:
      return f(std::integral_constant<Dot8, Dot8::Maddubs>{});
  }
}

// acc += the pair sums of int16 lanes of w and x: vpdpwssd (VEX or EVEX form, as dpbusd_acc), or
// vpmaddwd then vpaddd without VNNI (asm: with intrinsics GCC copies every accumulator once per
// loop iteration, and unrolled, hoists all madds ahead of the adds and spills them).
template <Dot8 D>
SLUICE_INLINE void dpwssd_acc(__m256i& acc, __m256i w, __m256i x) {
  if constexpr (D == Dot8::EvexVnni) {
    asm("%{evex%} vpdpwssd %2, %1, %0" : "+x"(acc) : "x"(w), "xm"(x));
  } else if constexpr (D == Dot8::VexVnni) {
    asm("%{vex%} vpdpwssd %2, %1, %0" : "+x"(acc) : "x"(w), "xm"(x));
  } else {
    __m256i t;
    asm("vpmaddwd %2, %3, %1\n\tvpaddd %1, %0, %0" : "+x"(acc), "=&x"(t) : "xm"(x), "x"(w));
  }
}

// Transposes an 8 x 8 matrix of dwords in place: r[i] lane j <-> r[j] lane i.
SLUICE_INLINE void transpose8x8_epi32(__m256i (&r)[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
  }
}

// Few-rows kernels' outputs: acc[k] (lanes = weight rows) to y[k * ldy + 0 .. nr).
template <int NX>
SLUICE_INLINE void store_rows8(const __m256 (&acc)[NX], float* y, int64_t ldy, int nr) {
  for (int k = 0; k < NX; ++k) {
    if (nr == 8) {
      _mm256_storeu_ps(y + k * ldy, acc[k]);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, acc[k]);
      std::memcpy(y + k * ldy, tmp, nr * sizeof(float));
    }
  }
}

// Batched kernels' outputs: acc[r][j] (lanes = activation rows 8j ..) to y[(8j + l) * ldy + r]
// for r < nr, 8j + l < na.
template <int XV>
SLUICE_INLINE void store_batch4(const __m256 (&acc)[4][XV], float* y, int64_t ldy, int nr, int na) {
  for (int j = 0; j < XV; ++j) {
    alignas(32) float tmp[4][8];
    for (int r = 0; r < 4; ++r) _mm256_store_ps(tmp[r], acc[r][j]);
    for (int l = 0; l < 8 && 8 * j + l < na; ++l)
      for (int r = 0; r < nr; ++r) y[(8 * j + l) * ldy + r] = tmp[r][l];
  }
}

// Eight dwords of two halves each [lo | hi] -> (lo halves, hi halves) as floats.
SLUICE_INLINE void halves8(__m256i v, __m256& lo, __m256& hi) {
  const __m256i m = _mm256_set1_epi32(0xffff);
  // packus: [lo 0..3, hi 0..3 | lo 4..7, hi 4..7] (16-bit) -> [lo 0..7 | hi 0..7]
  const __m256i p = _mm256_permute4x64_epi64(
      _mm256_packus_epi32(_mm256_and_si256(v, m), _mm256_srli_epi32(v, 16)), 0xD8);
  lo = _mm256_cvtph_ps(_mm256_castsi256_si128(p));
  hi = _mm256_cvtph_ps(_mm256_extracti128_si256(p, 1));
}

// Dword at byte `off` of NR rows (lanes >= NR zero).
template <int NR>
SLUICE_INLINE __m256i dwords(const uint8_t* const* wr, int64_t off) {
  int32_t v[8] = {};
  for (int r = 0; r < NR; ++r) v[r] = load32(wr[r] + off);
  return _mm256_setr_epi32(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

// An MXFP4 block's 32 codes (its 16 nibble bytes at p) as int8: lanes 0..15 elements 0..15
// (low nibbles), 16..31 elements 16..31 (high nibbles).
SLUICE_INLINE __m256i mxfp4_codes(const uint8_t* p) {
  const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Codes));
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(c, nibble));
  const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(c, 4), nibble));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// MXFP4 scales from dwords whose low bytes are exponents e: float bits max(e - 1, 0) << 23
// (mxfp4_scale_bits).
SLUICE_INLINE __m256 mxfp4_scales(__m256i dwords) {
  const __m256i e = _mm256_and_si256(dwords, _mm256_set1_epi32(0xff));
  const __m256i f =
      _mm256_max_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), _mm256_setzero_si256());
  return _mm256_castsi256_ps(_mm256_slli_epi32(f, 23));
}

// s[g][r] = integer sum of group g over t[r] (as float), for 8 weight rows r.
// G = 1: t[r] = 8 partial sums of row r. G = 2: t[r] = hadd(group 0 partials, group 1 partials).
template <int G>
SLUICE_INLINE void reduce8(const __m256i* t, __m256* s) {
  if constexpr (G == 1) {
    // a = [r0..r3 sums of lanes 0..3 | r0..r3 sums of lanes 4..7], c likewise for r4..r7.
    const __m256i a =
        _mm256_hadd_epi32(_mm256_hadd_epi32(t[0], t[1]), _mm256_hadd_epi32(t[2], t[3]));
    const __m256i c =
        _mm256_hadd_epi32(_mm256_hadd_epi32(t[4], t[5]), _mm256_hadd_epi32(t[6], t[7]));
    s[0] = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_permute2x128_si256(a, c, 0x20),
                                               _mm256_permute2x128_si256(a, c, 0x31)));
  } else {
    __m256i v[2];
    for (int h = 0; h < 2; ++h) {
      // u = [r g0, r g1, r+1 g0, r+1 g1] per 128-bit lane (lane halves of the partial sums).
      const __m256i u0 = _mm256_hadd_epi32(t[4 * h], t[4 * h + 1]);
      const __m256i u1 = _mm256_hadd_epi32(t[4 * h + 2], t[4 * h + 3]);
      v[h] = _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                              _mm256_permute2x128_si256(u0, u1, 0x31));
    }
    // v[h] = [r g0, r g1] for r = 4h..4h+3; split groups, restore row order.
    const __m256 f0 = _mm256_cvtepi32_ps(v[0]), f1 = _mm256_cvtepi32_ps(v[1]);
    s[0] = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(f0, f1, 0x88)), 0xD8));
    s[1] = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(f0, f1, 0xDD)), 0xD8));
  }
}

// The few-activation-rows walk shared by the int16 and int8 kernels: weight rows [r0, r1) in
// groups of 8 (a short last group repeats its last row; pf: the next group, to prefetch) times
// activation rows [i0, i1) in groups of up to 4, as rows8(std::integral_constant<int, NX>{},
// wr, i, r, nr, pf) for each pair.
template <class Rows8>
inline void for_each_rows8(const Weight& w, int64_t i0, int64_t i1, int64_t r0, int64_t r1,
                           Rows8&& rows8) {
  for (int64_t r = r0; r < r1; r += 8) {
    const int nr = static_cast<int>(std::min<int64_t>(8, r1 - r));
    const uint8_t* wr[8];
    for (int j = 0; j < 8; ++j) wr[j] = w.row(r + std::min(j, nr - 1));
    const uint8_t* pf = w.row(std::min(r + 8, w.rows - 1));
    for (int64_t i = i0; i < i1; i += 4) {
      switch (std::min<int64_t>(4, i1 - i)) {
        case 4:
          rows8(std::integral_constant<int, 4>{}, wr, i, r, nr, pf);
          break;
        case 3:
          rows8(std::integral_constant<int, 3>{}, wr, i, r, nr, pf);
          break;
        case 2:
          rows8(std::integral_constant<int, 2>{}, wr, i, r, nr, pf);
          break;
        default:
          rows8(std::integral_constant<int, 1>{}, wr, i, r, nr, pf);
      }
    }
  }
}

// for_each_rows8 over Q4G32R8 weights: rows [r0, r1) in whole groups of 8 (g: the group's
// blocks, pf: the next group's) times activation rows [i0, i1) in groups of up to 4, as
// rows8(std::integral_constant<int, NX>{}, g, i, r, pf).
template <class Rows8>
inline void for_each_rows8_interleaved(const Weight& w, int64_t i0, int64_t i1, int64_t r0,
                                       int64_t r1, Rows8&& rows8) {
  SLUICE_ASSERT(r0 % 8 == 0 && r1 % 8 == 0, "Q4G32R8 tiles are whole groups of 8 rows");
  for (int64_t r = r0; r < r1; r += 8) {
    const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w.row(r));
    const auto* pf = reinterpret_cast<const BlockQ4G32R8*>(w.row(std::min(r + 8, w.rows - 8)));
    for (int64_t i = i0; i < i1; i += 4) {
      switch (std::min<int64_t>(4, i1 - i)) {
        case 4:
          rows8(std::integral_constant<int, 4>{}, g, i, r, pf);
          break;
        case 3:
          rows8(std::integral_constant<int, 3>{}, g, i, r, pf);
          break;
        case 2:
          rows8(std::integral_constant<int, 2>{}, g, i, r, pf);
          break;
        default:
          rows8(std::integral_constant<int, 1>{}, g, i, r, pf);
      }
    }
  }
}

// Rows left over after whole groups of 8 that still go through the batched kernel (zero padded).
constexpr int64_t kPadFrom = 5;

// The batched walk shared by the int16 and int8 kernels: activation rows [i0, ig) in groups of 8
// (ig: i1, or i1 less a tail shorter than kPadFrom, which the caller gives the few-rows kernel)
// times weight rows [r0, r1) in groups of 4, each unpacked once into a per-thread Block[nb] by
// unpack(wr, blocks, pf) and multiplied with two activation groups at a time by
// batch(std::integral_constant<int, XV>{}, blocks, i, r, nr, na). Returns ig.
template <class Block, class Unpack, class Batch>
inline int64_t for_each_batch4(const Weight& w, int64_t nb, int64_t i0, int64_t i1, int64_t r0,
                               int64_t r1, Unpack&& unpack, Batch&& batch) {
  const int64_t rem = (i1 - i0) % 8;
  const int64_t ig = rem >= kPadFrom ? i1 : i1 - rem;
  if (ig <= i0) return ig;
  thread_local std::vector<Block> scratch;  // [nb]
  if (scratch.size() < static_cast<size_t>(nb)) scratch.resize(nb);
  const int64_t ngroups = (ig - i0 + 7) / 8;
  for (int64_t r = r0; r < r1; r += 4) {
    const int nr = static_cast<int>(std::min<int64_t>(4, r1 - r));
    const uint8_t* wr[4];
    for (int j = 0; j < 4; ++j) wr[j] = w.row(r + std::min(j, nr - 1));
    unpack(wr, scratch.data(), w.row(std::min(r + 4, w.rows - 1)));
    for (int64_t gi = 0; gi < ngroups; gi += 2) {
      const int64_t i = i0 + 8 * gi;
      const int na = static_cast<int>(std::min<int64_t>(16, ig - i));
      if (gi + 1 < ngroups)
        batch(std::integral_constant<int, 2>{}, scratch.data(), i, r, nr, na);
      else
        batch(std::integral_constant<int, 1>{}, scratch.data(), i, r, nr, na);
    }
  }
  return ig;
}

}  // namespace sluice::cpu::avx2
#endif
