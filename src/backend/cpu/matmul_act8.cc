// Q4G32 and Q8G32 weights against int8 activations (BlockAct8): the CPU backend's int8 mode,
// twice the multiply throughput of int16 on AVX2 (vpmaddubsw: 32 products per instruction) at
// llama.cpp's activation precision. One template per kernel shape; the weight type is a traits
// class (Q4Codes, Q8Codes): how a block's codes are read, unpacked and multiplied.
//
// Every path (scalar, AVX2 few-rows, AVX2 batched) computes an output with the same float ops,
// so a row's result never depends on n or on the tiling (batch invariance):
//   acc = 0; for each block b:  acc = fma(float(S), dw * dx, acc);  acc = fma(ow, sum, acc)
// S = exact integer dot of the block's codes (Q4G32: 0..15; Q8G32: -128..127) and q (|q| <= 127);
// |S| <= 32 * 128 * 127 < 2^24, so float(S) is exact too.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_avx2.h"
#include "backend/cpu/quant_avx512.h"
#include "backend/reference/ref_ops.h"
#include "common/assert.h"
#include "common/half.h"

namespace sluice::cpu {
namespace {

#if SLUICE_X86
using namespace avx2;

// The 32 codes of one Q4G32 block as bytes in element order.
SLUICE_INLINE __m256i codes_u8(const uint8_t* blk) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4));
  const __m128i m = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(c, 4), m), _mm_and_si128(c, m));
}

// The 32 signed codes of one Q8G32 block (after scale and offset).
SLUICE_INLINE __m256i codes_s8(const uint8_t* blk) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(BlockQ8G32, codes)));
}

// acc += maddubs(w, x) in int16. In asm for the same reason as dpwssd_acc (quant_avx2.h)
// (GCC otherwise copies and spills the accumulators).
SLUICE_INLINE void maddubs_acc(__m256i& acc, __m256i w, __m256i x) {
  __m256i t;
  asm("vpmaddubsw %3, %2, %1\n\tvpaddw %1, %0, %0" : "+x"(acc), "=&x"(t) : "x"(w), "xm"(x));
}

// acc += the int32 four-product sums w * x, formed as |w| * (x with w's sign); mag = |w|.
SLUICE_INLINE void signed_dot4_acc(__m256i& acc, __m256i mag, __m256i w, __m256i x, __m256i ones) {
  __m256i t;
  asm("vpsignb %3, %4, %1\n\t"
      "vpmaddubsw %1, %2, %1\n\t"
      "vpmaddwd %5, %1, %1\n\t"
      "vpaddd %1, %0, %0"
      : "+x"(acc), "=&x"(t)
      : "x"(mag), "xm"(w), "x"(x), "x"(ones));
}
#endif

// Q4G32: codes 0..15, two per byte (element j in the low nibble, j + 16 in the high one). AVX2
// multiplies them unsigned x signed as they are (pair sums <= 2 * 15 * 127: no saturation), and
// the batched kernel sums 8 pairs in int16 (<= 30480) before widening.
struct Q4Codes {
  using Block = BlockQ4G32;
  static int32_t dot(const Block& w, const BlockAct8& x) {
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) s += (w.codes[j] & 15) * x.q[j] + (w.codes[j] >> 4) * x.q[j + 16];
    return s;
  }
#if SLUICE_X86
  // Few-rows kernel: a weight row's register for the block at blk, and its dot with x.
  SLUICE_INLINE static __m256i row(const uint8_t* blk) {
    return codes_u8(blk);
  }
  SLUICE_INLINE static __m256i dot4(__m256i row, const uint8_t*, __m256i x, __m256i ones) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(row, x), ones);
  }
  // One block of 4 weight rows unpacked for the batched kernel.
  struct alignas(32) WeightBlock4 {
    uint8_t q[4][32];  // [row][element]
    float dw[4];
    float ow[4];
  };
  SLUICE_INLINE static void unpack(WeightBlock4& o, int r, const uint8_t* blk) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[r]), codes_u8(blk));
  }
  // vpdpbusd multiplies q as it is; the plain AVX2 dot accumulates int16 pair sums.
  static constexpr auto kDotCodes = &WeightBlock4::q;
  static constexpr bool kBiased = false;
  static constexpr bool kInt16Sums = true;
  using Quad = __m256i;  // row r's codes 4p..4p+3 broadcast
  SLUICE_INLINE static Quad quad(const WeightBlock4& W, int r, int p) {
    return _mm256_set1_epi32(load32(&W.q[r][4 * p]));
  }
  SLUICE_INLINE static void dot_acc(__m256i& s, Quad w, __m256i x, __m256i) {
    maddubs_acc(s, w, x);
  }
#endif
};

// Q8G32: signed codes -128..127. AVX2 multiplies bytes only as unsigned x signed (vpmaddubsw),
// so each product is |w| * (q with w's sign): |w| read unsigned is exact even for -128, and
// |q| <= 127 negates safely. A pair sum is at most 2 * 128 * 127 = 32512, below vpmaddubsw's
// int16 saturation; two could exceed it, so each is widened to int32 at once (4 ops per 32
// products: no faster than int16 on plain AVX2). With vpdpbusd the batched kernel multiplies the
// codes biased to unsigned (w + 128) and takes 128 * sum(q) off once per activation row.
struct Q8Codes {
  using Block = BlockQ8G32;
  static int32_t dot(const Block& w, const BlockAct8& x) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += w.codes[j] * x.q[j];
    return s;
  }
#if SLUICE_X86
  SLUICE_INLINE static __m256i row(const uint8_t* blk) {
    return _mm256_abs_epi8(codes_s8(blk));
  }
  SLUICE_INLINE static __m256i dot4(__m256i mag, const uint8_t* blk, __m256i x, __m256i ones) {
    const __m256i pairs = _mm256_maddubs_epi16(mag, _mm256_sign_epi8(x, codes_s8(blk)));
    return _mm256_madd_epi16(pairs, ones);  // |pair| <= 32512
  }
  // Codes (for their signs) and magnitudes, so the kernel only broadcasts them.
  struct alignas(32) WeightBlock4 {
    int8_t code[4][32];     // [row][element]
    uint8_t mag[4][32];     // |code| (-128 -> 128)
    uint8_t biased[4][32];  // code + 128
    float dw[4];
    float ow[4];
  };
  SLUICE_INLINE static void unpack(WeightBlock4& o, int r, const uint8_t* blk) {
    const __m256i c = codes_s8(blk);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o.code[r]), c);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o.mag[r]), _mm256_abs_epi8(c));
    _mm256_store_si256(reinterpret_cast<__m256i*>(o.biased[r]),
                       _mm256_xor_si256(c, _mm256_set1_epi8(static_cast<char>(0x80))));
  }
  static constexpr auto kDotCodes = &WeightBlock4::biased;
  static constexpr bool kBiased = true;
  static constexpr bool kInt16Sums = false;
  struct Quad {
    __m256i mag, code;
  };
  SLUICE_INLINE static Quad quad(const WeightBlock4& W, int r, int p) {
    return {_mm256_set1_epi32(load32(&W.mag[r][4 * p])),
            _mm256_set1_epi32(load32(&W.code[r][4 * p]))};
  }
  SLUICE_INLINE static void dot_acc(__m256i& s, Quad w, __m256i x, __m256i ones) {
    signed_dot4_acc(s, w.mag, w.code, x, ones);
  }
#endif
};

template <class C>
float dot_scalar(const uint8_t* w, const BlockAct8* x, int64_t nb) {
  const auto* blk = reinterpret_cast<const typename C::Block*>(w);
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const int32_t s = C::dot(blk[b], x[b]);
    acc = std::fma(static_cast<float>(s), f16_to_f32(blk[b].scale) * x[b].d, acc);
    acc = std::fma(f16_to_f32(blk[b].offset), x[b].sum, acc);
  }
  return acc;
}

template <class C>
void tile_scalar(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                 int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t r = r0; r < r1; ++r) y[i * w.rows + r] = dot_scalar<C>(w.row(r), xq + i * nb, nb);
}

#if SLUICE_X86
SLUICE_AVX2_TARGET void quantize_row_avx2(const float* x, int64_t cols, BlockAct8* out) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
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
    const float d = _mm_cvtss_f32(m4) / 127.0f;
    const __m256 vid = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(
          _mm256_round_ps(_mm256_mul_ps(v[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_hadd_epi32(s4, s4);
    s4 = _mm_hadd_epi32(s4, s4);
    // packs works per 128-bit lane: dwords come out as [q0 0..3, q1 0..3, q2 0..3, q3 0..3,
    // q0 4..7, ...]; `order` restores element order.
    const __m256i p =
        _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    BlockAct8& o = out[b];
    o.d = d;
    o.sum = d * static_cast<float>(_mm_cvtsi128_si32(s4));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.q), _mm256_permutevar8x32_epi32(p, order));
  }
}

// Few activation rows: y[k * ldy + r] for 8 weight rows wr[r] (first nr stored) and NX activation
// rows (x rows nb blocks apart); lanes are weight rows. Prefetches the next 8 rows (pf).
template <class C, int NX>
SLUICE_AVX2_TARGET void rows8_avx2(const uint8_t* const* wr, const BlockAct8* x, int64_t nb,
                                   float* y, int64_t ldy, int nr, const uint8_t* pf) {
  constexpr int64_t kBlockBytes = sizeof(typename C::Block);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NX];
  for (int k = 0; k < NX; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes;
    for (int64_t c = 0; c < 8 * kBlockBytes; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 8 * off + c), _MM_HINT_T0);
    __m256i w[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) w[r] = C::row(wr[r] + off);
    __m256 dw, ow;
    halves8(dwords<8>(wr, off), dw, ow);
#pragma GCC unroll 4
    for (int k = 0; k < NX; ++k) {
      const BlockAct8& a = x[k * nb + b];
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q));
      __m256i t[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) t[r] = C::dot4(w[r], wr[r] + off, xv, ones);
      __m256 s;
      reduce8<1>(t, &s);
      acc[k] = _mm256_fmadd_ps(s, _mm256_mul_ps(dw, _mm256_set1_ps(a.d)), acc[k]);
      acc[k] = _mm256_fmadd_ps(ow, _mm256_set1_ps(a.sum), acc[k]);
    }
  }
  store_rows8(acc, y, ldy, nr);
}

template <class C>
void tile_rows8(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8(
      w, i0, i1, r0, r1,
      [&](auto nx, const uint8_t* const* wr, int64_t i, int64_t r, int nr, const uint8_t* pf) {
        rows8_avx2<C, decltype(nx)::value>(wr, xq + i * nb, nb, y + i * w.rows + r, w.rows, nr, pf);
      });
}

// Q4G32R8, few activation rows: y[k * ldy + l] for the 8 weight rows of the blocks g[nb] and NX
// activation rows (x rows nb blocks apart); lanes are weight rows, and the layout puts each
// block's row sums in them (rows8_avx2 transposes them): the same integer sums and float ops as
// Q4Codes' kernels, so the same bits. Prefetches the next 8 rows' blocks (pf).
template <int NX, bool Evex>
SLUICE_AVX2_TARGET void rows8_interleaved(const BlockQ4G32R8* g, const BlockAct8* x, int64_t nb,
                                          float* y, int64_t ldy, const BlockQ4G32R8* pf) {
  const __m256i m = _mm256_set1_epi8(0x0f);
  __m256 acc[NX];
  for (int k = 0; k < NX; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    for (size_t c = 0; c < sizeof(BlockQ4G32R8); c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + b) + c, _MM_HINT_T0);
    __m256i lo[4], hi[4];  // row l's codes 4j..4j+3 (lo) and 16+4j.. (hi) in dword l
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g[b].codes[j]));
      lo[j] = _mm256_and_si256(v, m);
      hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
    }
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].scale)));
    const __m256 ow =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].offset)));
#pragma GCC unroll 4
    for (int k = 0; k < NX; ++k) {
      const BlockAct8& a = x[k * nb + b];
      __m256i s = _mm256_setzero_si256();
      for (int j = 0; j < 4; ++j) {
        dpbusd_acc<Evex>(s, lo[j], _mm256_set1_epi32(load32(a.q + 4 * j)));
        dpbusd_acc<Evex>(s, hi[j], _mm256_set1_epi32(load32(a.q + 16 + 4 * j)));
      }
      acc[k] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a.d)), acc[k]);
      acc[k] = _mm256_fmadd_ps(ow, _mm256_set1_ps(a.sum), acc[k]);
    }
  }
  for (int k = 0; k < NX; ++k) _mm256_storeu_ps(y + k * ldy, acc[k]);
}

// The 8-row groups of w (Q4G32R8) in weight rows [r0, r1) (whole groups) x activation rows
// [i0, i1), four at a time.
template <bool Evex>
void tile_rows8_interleaved(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w,
                            int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8_interleaved(
      w, i0, i1, r0, r1,
      [&](auto nx, const BlockQ4G32R8* g, int64_t i, int64_t r, const BlockQ4G32R8* pf) {
        rows8_interleaved<decltype(nx)::value, Evex>(g, xq + i * nb, nb, y + i * w.rows + r, w.rows,
                                                     pf);
      });
}

// out[b] for 4 weight rows wr; prefetches the next 4 rows (4 * nb blocks from pf).
template <class C>
SLUICE_AVX2_TARGET void unpack4(const uint8_t* const* wr, int64_t nb, typename C::WeightBlock4* out,
                                const uint8_t* pf) {
  constexpr int64_t kBlockBytes = sizeof(typename C::Block);
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes;
    for (int64_t c = 0; c < 4 * kBlockBytes; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 4 * off + c), _MM_HINT_T0);
    typename C::WeightBlock4& o = out[b];
    for (int r = 0; r < 4; ++r) C::unpack(o, r, wr[r] + off);
    __m256 lo, hi;
    halves8(dwords<4>(wr, off), lo, hi);
    _mm_store_ps(o.dw, _mm256_castps256_ps128(lo));
    _mm_store_ps(o.ow, _mm256_castps256_ps128(hi));
  }
}

// Batched: 4 unpacked weight rows x XV groups of 8 activation rows; lanes are activation rows.
// The integer sums are exact whichever dot D forms them: int16 pair sums widened at the block's
// end (Q4Codes without VNNI), int32 sums, or with vpdpbusd on biased codes the sums less
// 128 * the sums of q in `bias`. y[(8j + l) * ldy + r] for r < nr, 8j + l < na.
template <class C, int XV, Dot8 D>
SLUICE_AVX2_TARGET void batch4_avx2(const typename C::WeightBlock4* wb, const ActQuads8* xg,
                                    int64_t nb, float* y, int64_t ldy, int nr, int na) {
  constexpr bool kVnni = D != Dot8::Maddubs;
  constexpr bool kBias = kVnni && C::kBiased;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[4][XV];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < XV; ++j) acc[r][j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const typename C::WeightBlock4& W = wb[b];
    const ActQuads8* a[XV];
    for (int j = 0; j < XV; ++j) a[j] = xg + j * nb + b;
    // Zeroed in each weight type's order of before: GCC then allocates the same registers.
    __m256i s[4][XV], bias[XV];
    if constexpr (C::kBiased) {
      for (int j = 0; j < XV; ++j) {
        bias[j] = _mm256_setzero_si256();
        for (int r = 0; r < 4; ++r) s[r][j] = _mm256_setzero_si256();
      }
    } else {
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < XV; ++j) s[r][j] = _mm256_setzero_si256();
    }
#pragma GCC unroll 2
    for (int p = 0; p < 8; ++p) {
      __m256i xv[XV];
      for (int j = 0; j < XV; ++j)
        xv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(a[j]->q[p]));
      if constexpr (kBias) {
        const __m256i b128 = _mm256_set1_epi8(static_cast<char>(0x80));
        for (int j = 0; j < XV; ++j) dpbusd_acc<D == Dot8::EvexVnni>(bias[j], b128, xv[j]);
      }
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        if constexpr (kVnni) {
          const __m256i wv = _mm256_set1_epi32(load32(&(W.*C::kDotCodes)[r][4 * p]));
          for (int j = 0; j < XV; ++j) dpbusd_acc<D == Dot8::EvexVnni>(s[r][j], wv, xv[j]);
        } else {
          const typename C::Quad wv = C::quad(W, r, p);
          for (int j = 0; j < XV; ++j) C::dot_acc(s[r][j], wv, xv[j], ones);
        }
      }
    }
    if constexpr (kBias)
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < XV; ++j) s[r][j] = _mm256_sub_epi32(s[r][j], bias[j]);
    for (int j = 0; j < XV; ++j) {
      const __m256 dx = _mm256_load_ps(a[j]->d);
      const __m256 sx = _mm256_load_ps(a[j]->sum);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(W.dw[r]), dx);
        const __m256i si = kVnni || !C::kInt16Sums ? s[r][j] : _mm256_madd_epi16(s[r][j], ones);
        acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(si), sc, acc[r][j]);
        acc[r][j] = _mm256_fmadd_ps(_mm256_set1_ps(W.ow[r]), sx, acc[r][j]);
      }
    }
  }
  store_batch4(acc, y, ldy, nr, na);
}

// The wide path: the shared int8 kernel of quant_avx512.h on the codes vpdpbusd multiplies.
template <class C, bool Two>
constexpr auto batch8x16_act8_avx512 =
    avx512::batch8x16_int8<Two, C::kBiased, typename C::WeightBlock4, ActQuads8, C::kDotCodes>;

template <class C>
void tile_batched(const QuantPaths& paths, const BlockAct8* xq, const ActQuads8* xg, int64_t i0,
                  int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y) {
  using WeightBlock4 = typename C::WeightBlock4;
  const int64_t nb = w.cols / kQuantBlock;
  const Dot8 dot = paths.dot8;
  if (dot != Dot8::Maddubs && paths.avx512) {
    const int64_t ig = avx512::for_each_batch8x16(
        w, i0, i1, r0, r1, xg, y, avx512::unpack_halves<typename C::WeightBlock4, unpack4<C>>,
        batch8x16_act8_avx512<C, false>, batch8x16_act8_avx512<C, true>);
    if (ig < i1) tile_rows8<C>(xq, ig, i1, w, r0, r1, y);
    return;
  }
  const int64_t ig = for_each_batch4<WeightBlock4>(
      w, nb, i0, i1, r0, r1,
      [&](const uint8_t* const* wr, WeightBlock4* blocks, const uint8_t* pf) {
        unpack4<C>(wr, nb, blocks, pf);
      },
      [&](auto xv, const WeightBlock4* blocks, int64_t i, int64_t r, int nr, int na) {
        constexpr int XV = decltype(xv)::value;
        const ActQuads8* x = xg + (i / 8) * nb;
        float* yi = y + i * w.rows + r;
        with_dot8(dot, [&](auto d) {
          batch4_avx2<C, XV, decltype(d)::value>(blocks, x, nb, yi, w.rows, nr, na);
        });
      });
  if (ig < i1) tile_rows8<C>(xq, ig, i1, w, r0, r1, y);
}

// Q4G32R8 rows r..r+3 (r % 4 == 0) unpacked as Q4Codes' batched kernels take them. The first
// half of a group prefetches the next group's blocks.
SLUICE_AVX2_TARGET void unpack4_interleaved(const Weight& w, int64_t r,
                                            Q4Codes::WeightBlock4* out) {
  const int64_t nb = w.cols / kQuantBlock;
  const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w.row(r / 8 * 8));
  const auto* next = reinterpret_cast<const char*>(w.row(std::min(r / 8 * 8 + 8, w.rows - 8)));
  const int l0 = static_cast<int>(r % 8);
  const __m128i m = _mm_set1_epi8(0x0f);
  for (int64_t b = 0; b < nb; ++b) {
    if (l0 == 0)
      for (size_t c = 0; c < sizeof(BlockQ4G32R8); c += 64)
        _mm_prefetch(next + b * sizeof(BlockQ4G32R8) + c, _MM_HINT_T0);
    Q4Codes::WeightBlock4& o = out[b];
    // c[j] = the 4 rows' code bytes 4j..4j+3 (dword k: row l0 + k); a 4 x 4 dword transpose
    // gives each row's 16 code bytes.
    __m128i c[4];
    for (int j = 0; j < 4; ++j)
      c[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].codes[j] + 4 * l0));
    const __m128i t0 = _mm_unpacklo_epi32(c[0], c[1]), t1 = _mm_unpackhi_epi32(c[0], c[1]);
    const __m128i t2 = _mm_unpacklo_epi32(c[2], c[3]), t3 = _mm_unpackhi_epi32(c[2], c[3]);
    const __m128i rows[4] = {_mm_unpacklo_epi64(t0, t2), _mm_unpackhi_epi64(t0, t2),
                             _mm_unpacklo_epi64(t1, t3), _mm_unpackhi_epi64(t1, t3)};
    for (int k = 0; k < 4; ++k)
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[k]),
                         _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(rows[k], 4), m),
                                          _mm_and_si128(rows[k], m)));
    _mm_store_ps(o.dw,
                 _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g[b].scale + l0))));
    _mm_store_ps(o.ow,
                 _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g[b].offset + l0))));
  }
}

// Q4G32R8 rows r..r+7 (r % 8 == 0) unpacked as two halves of 4 rows, as Q4Codes' batched kernels
// take them; prefetches the next group's blocks.
SLUICE_AVX2_TARGET void unpack8_interleaved(const Weight& w, int64_t r,
                                            Q4Codes::WeightBlock4* half0,
                                            Q4Codes::WeightBlock4* half1) {
  const int64_t nb = w.cols / kQuantBlock;
  const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w.row(r));
  const auto* next = reinterpret_cast<const char*>(w.row(std::min(r + 8, w.rows - 8)));
  const __m256i m = _mm256_set1_epi8(0x0f);
  for (int64_t b = 0; b < nb; ++b) {
    for (size_t c = 0; c < sizeof(BlockQ4G32R8); c += 64)
      _mm_prefetch(next + b * sizeof(BlockQ4G32R8) + c, _MM_HINT_T0);
    // v[j] = the rows' code bytes 4j..4j+3 (dword l: row l); per 128-bit lane a 4 x 4 dword
    // transpose gives rows[k] = [row k's 16 code bytes | row k + 4's].
    __m256i v[4];
    for (int j = 0; j < 4; ++j)
      v[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g[b].codes[j]));
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    const __m256i rows[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                             _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
    for (int k = 0; k < 4; ++k) {
      const __m256i lo = _mm256_and_si256(rows[k], m);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(rows[k], 4), m);
      _mm256_store_si256(reinterpret_cast<__m256i*>(half0[b].q[k]),
                         _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_store_si256(reinterpret_cast<__m256i*>(half1[b].q[k]),
                         _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].scale)));
    const __m256 ow =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g[b].offset)));
    _mm_store_ps(half0[b].dw, _mm256_castps256_ps128(dw));
    _mm_store_ps(half1[b].dw, _mm256_extractf128_ps(dw, 1));
    _mm_store_ps(half0[b].ow, _mm256_castps256_ps128(ow));
    _mm_store_ps(half1[b].ow, _mm256_extractf128_ps(ow, 1));
  }
}

// Q4G32R8 batches: Q4Codes' batched walks and kernels on blocks unpacked from the interleaved
// rows; the tail and few-row calls go to tile_rows8_interleaved (vpdpbusd).
void tile_interleaved_avx2(const QuantPaths& paths, const BlockAct8* xq, const ActQuads8* xg,
                           int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
                           float* y) {
  using WeightBlock4 = Q4Codes::WeightBlock4;
  const int64_t nb = w.cols / kQuantBlock;
  const auto stride = static_cast<int64_t>(w.row_stride());
  auto unpack = [&](const uint8_t* const* wr, WeightBlock4* blocks) {
    unpack4_interleaved(w, (wr[0] - w.data) / stride, blocks);
  };
  const Dot8 dot = paths.dot8;
  int64_t ig = i0;
  if (xg && paths.avx512) {
    ig = avx512::for_each_batch8x16(
        w, i0, i1, r0, r1, xg, y,
        [&](const Weight&, int64_t r, const uint8_t* const*, int64_t, WeightBlock4* half0,
            WeightBlock4* half1) { unpack8_interleaved(w, r, half0, half1); },
        batch8x16_act8_avx512<Q4Codes, false>, batch8x16_act8_avx512<Q4Codes, true>);
  } else if (xg) {
    ig = for_each_batch4<WeightBlock4>(
        w, nb, i0, i1, r0, r1,
        [&](const uint8_t* const* wr, WeightBlock4* blocks, const uint8_t*) { unpack(wr, blocks); },
        [&](auto xv, const WeightBlock4* blocks, int64_t i, int64_t r, int nr, int na) {
          constexpr int XV = decltype(xv)::value;
          with_dot8(dot, [&](auto d) {
            batch4_avx2<Q4Codes, XV, decltype(d)::value>(blocks, xg + (i / 8) * nb, nb,
                                                         y + i * w.rows + r, w.rows, nr, na);
          });
        });
  }
  if (ig >= i1) return;
  if (dot == Dot8::EvexVnni)
    tile_rows8_interleaved<true>(xq, ig, i1, w, r0, r1, y);
  else
    tile_rows8_interleaved<false>(xq, ig, i1, w, r0, r1, y);
}

// pack_act8_groups on AVX2: per block, the rows' 8 code quads as one 8 x 8 transpose.
SLUICE_AVX2_TARGET void pack_groups_avx2(const BlockAct8* xq, int64_t n, int64_t nb, int64_t g0,
                                         int64_t g1, ActQuads8* xg) {
  for (int64_t gi = g0; gi < g1; ++gi) {
    const int64_t rows = std::clamp<int64_t>(n - gi * 8, 0, 8);
    for (int64_t b = 0; b < nb; ++b) {
      ActQuads8& o = xg[gi * nb + b];
      __m256i q[8];
      for (int l = 0; l < 8; ++l) {
        if (l < rows) {
          const BlockAct8& a = xq[(gi * 8 + l) * nb + b];
          q[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q));
          o.d[l] = a.d;
          o.sum[l] = a.sum;
        } else {
          q[l] = _mm256_setzero_si256();
          o.d[l] = o.sum[l] = 0.0f;
        }
      }
      transpose8x8_epi32(q);
      for (int p = 0; p < 8; ++p) _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[p]), q[p]);
    }
  }
}
#endif

// Q4G32R8 without the AVX2 kernels: Q4Codes' dot on each row's blocks.
void tile_interleaved_scalar(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w,
                             int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8_row(w, r0, r1, [&](int64_t r, const uint8_t* row) {
    for (int64_t i = i0; i < i1; ++i) y[i * w.rows + r] = dot_scalar<Q4Codes>(row, xq + i * nb, nb);
  });
}

template <class C>
void tile(const QuantPaths& paths, const BlockAct8* xq, const ActQuads8* xg, int64_t i0, int64_t i1,
          const Weight& w, int64_t r0, int64_t r1, float* y) {
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2) {
    SLUICE_ASSERT(!xg || i0 % 8 == 0, "batched quantized tiles start at a group of 8");
    return xg ? tile_batched<C>(paths, xq, xg, i0, i1, w, r0, r1, y)
              : tile_rows8<C>(xq, i0, i1, w, r0, r1, y);
  }
#endif
  tile_scalar<C>(xq, i0, i1, w, r0, r1, y);
}

}  // namespace

void quantize_act8_rows(const float* x, int64_t i0, int64_t i1, int64_t cols, BlockAct8* xq) {
  const int64_t nb = cols / 32;
  for (int64_t i = i0; i < i1; ++i) {
#if SLUICE_X86
    if (quant_kernel() == QuantKernel::Avx2) {
      quantize_row_avx2(x + i * cols, cols, xq + i * nb);
      continue;
    }
#endif
    ref::quantize_act8_row(x + i * cols, cols, xq + i * nb);
  }
}

void pack_act8_groups(const BlockAct8* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                      ActQuads8* xg) {
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2) return pack_groups_avx2(xq, n, nb, g0, g1, xg);
#endif
  for (int64_t gi = g0; gi < g1; ++gi)
    for (int64_t b = 0; b < nb; ++b) {
      ActQuads8& o = xg[gi * nb + b];
      for (int l = 0; l < 8; ++l) {
        const int64_t i = gi * 8 + l;
        const BlockAct8* a = i < n ? &xq[i * nb + b] : nullptr;
        for (int p = 0; p < 8; ++p) {
          int32_t v = 0;
          if (a) std::memcpy(&v, a->q + 4 * p, 4);
          o.q[p][l] = v;
        }
        o.d[l] = a ? a->d : 0.0f;
        o.sum[l] = a ? a->sum : 0.0f;
      }
    }
}

bool reads_rows8(const QuantPaths& paths) {
#if SLUICE_X86
  return quant_kernel() == QuantKernel::Avx2 && paths.dot8 != Dot8::Maddubs && !paths.amx;
#else
  (void)paths;
  return false;
#endif
}

void matmul_act8_tile(const QuantPaths& paths, const BlockAct8* xq, const ActQuads8* xg, int64_t i0,
                      int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y) {
  if (w.dtype == DType::Q4G32R8) {
#if SLUICE_X86
    if (reads_rows8(paths)) return tile_interleaved_avx2(paths, xq, xg, i0, i1, w, r0, r1, y);
#endif
    return tile_interleaved_scalar(xq, i0, i1, w, r0, r1, y);
  }
  if (w.dtype == DType::Q4G32) return tile<Q4Codes>(paths, xq, xg, i0, i1, w, r0, r1, y);
  SLUICE_ASSERT(w.dtype == DType::Q8G32, "int8 activations are for Q4G32 and Q8G32 weights");
  tile<Q8Codes>(paths, xq, xg, i0, i1, w, r0, r1, y);
}

}  // namespace sluice::cpu
