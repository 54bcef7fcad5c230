// Q8G32 weights against int8 activations (BlockAct8): the CPU backend's int8 mode for 8-bit
// weights (GGUF Q8_0, e.g. the tied embedding / logits matrix), same API as matmul_q4_act8.cc.
//
// Every path (scalar, AVX2 few-rows, AVX2 batched) computes an output with the same float ops,
// so a row's result never depends on n or on the tiling (batch invariance):
//   acc = 0; for each block b:  acc = fma(float(S), dw * dx, acc);  acc = fma(ow, sum, acc)
// S = exact integer dot of the block's signed codes (-128..127) and q (|q| <= 127);
// |S| <= 32 * 128 * 127 < 2^24, so float(S) is exact too.
//
// AVX2 multiplies bytes only as unsigned x signed (vpmaddubsw), so each product is formed as
// |w| * (q with w's sign): |w| read unsigned is exact even for -128, and |q| <= 127 negates
// safely (the other way round, -128 would not). A pair sum is at most 2 * 128 * 127 = 32512,
// below vpmaddubsw's int16 saturation; two could exceed it, so each is widened to int32 at once.
// That is 4 ops per 32 products (vpsignb, vpmaddubsw, vpmaddwd, vpaddd), as many as the int16
// path's 2 x (vpmaddwd, vpaddd): no faster on plain AVX2. With vpdpbusd (AVX-VNNI or
// AVX512-VNNI) the batched kernel multiplies the codes biased to unsigned (w + 128) and takes
// 128 * sum(q) off once per activation row: one op per 32 products, the same exact integers.
#include <cmath>
#include <cstddef>
#include <cstring>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_avx2.h"
#include "backend/cpu/quant_avx512.h"
#include "common/assert.h"
#include "common/half.h"

namespace sluice::cpu {
namespace {

constexpr int64_t kBlockBytes = sizeof(BlockQ8G32);
constexpr int64_t kCodesAt = offsetof(BlockQ8G32, codes);  // after scale and offset

float dot_scalar(const uint8_t* w, const BlockAct8* x, int64_t nb) {
  const auto* blk = reinterpret_cast<const BlockQ8G32*>(w);
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += blk[b].codes[j] * x[b].q[j];
    acc = std::fma(static_cast<float>(s), f16_to_f32(blk[b].scale) * x[b].d, acc);
    acc = std::fma(f16_to_f32(blk[b].offset), x[b].sum, acc);
  }
  return acc;
}

void tile_scalar(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                 int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t r = r0; r < r1; ++r) y[i * w.rows + r] = dot_scalar(w.row(r), xq + i * nb, nb);
}

#if SLUICE_X86
using namespace avx2;

// The 32 signed codes of one block.
SLUICE_INLINE __m256i codes_s8(const uint8_t* blk) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kCodesAt));
}

// Eight int32 sums of four products w * x each; mag = |w| (unsigned), x signed with |x| <= 127.
SLUICE_INLINE __m256i signed_dot4(__m256i mag, __m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(mag, _mm256_sign_epi8(x, w));  // |pair| <= 32512
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Few activation rows: y[k * ldy + r] for 8 weight rows wr[r] (first nr stored) and NX activation
// rows (x rows nb blocks apart); lanes are weight rows. Prefetches the next 8 rows (pf).
template <int NX>
SLUICE_AVX2_TARGET void rows8_avx2(const uint8_t* const* wr, const BlockAct8* x, int64_t nb,
                                   float* y, int64_t ldy, int nr, const uint8_t* pf) {
  __m256 acc[NX];
  for (int k = 0; k < NX; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes;
    for (int64_t c = 0; c < 8 * kBlockBytes; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 8 * off + c), _MM_HINT_T0);
    __m256i mag[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) mag[r] = _mm256_abs_epi8(codes_s8(wr[r] + off));
    __m256 dw, ow;
    halves8(dwords<8>(wr, off), dw, ow);
#pragma GCC unroll 4
    for (int k = 0; k < NX; ++k) {
      const BlockAct8& a = x[k * nb + b];
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q));
      __m256i t[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) t[r] = signed_dot4(mag[r], codes_s8(wr[r] + off), xv);
      __m256 s;
      reduce8<1>(t, &s);
      acc[k] = _mm256_fmadd_ps(s, _mm256_mul_ps(dw, _mm256_set1_ps(a.d)), acc[k]);
      acc[k] = _mm256_fmadd_ps(ow, _mm256_set1_ps(a.sum), acc[k]);
    }
  }
  store_rows8(acc, y, ldy, nr);
}

void tile_rows8(const BlockAct8* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8(
      w, i0, i1, r0, r1,
      [&](auto nx, const uint8_t* const* wr, int64_t i, int64_t r, int nr, const uint8_t* pf) {
        rows8_avx2<decltype(nx)::value>(wr, xq + i * nb, nb, y + i * w.rows + r, w.rows, nr, pf);
      });
}

// One block of 4 weight rows unpacked for the batched kernel: codes (for their signs) and
// magnitudes, so the kernel only broadcasts them.
struct alignas(32) WeightBlock4 {
  int8_t code[4][32];    // [row][element]
  uint8_t mag[4][32];    // |code| (-128 -> 128)
  uint8_t biased[4][32];  // code + 128
  float dw[4];
  float ow[4];
};

// out[b] for 4 weight rows wr; prefetches the next 4 rows (4 * nb blocks from pf).
SLUICE_AVX2_TARGET void unpack4(const uint8_t* const* wr, int64_t nb, WeightBlock4* out,
                                const uint8_t* pf) {
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes;
    for (int64_t c = 0; c < 4 * kBlockBytes; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 4 * off + c), _MM_HINT_T0);
    WeightBlock4& o = out[b];
    for (int r = 0; r < 4; ++r) {
      const __m256i c = codes_s8(wr[r] + off);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.code[r]), c);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.mag[r]), _mm256_abs_epi8(c));
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.biased[r]),
                         _mm256_xor_si256(c, _mm256_set1_epi8(static_cast<char>(0x80))));
    }
    __m256 lo, hi;
    halves8(dwords<4>(wr, off), lo, hi);
    _mm_store_ps(o.dw, _mm256_castps256_ps128(lo));
    _mm_store_ps(o.ow, _mm256_castps256_ps128(hi));
  }
}

// acc += signed_dot4(mag, w, x) (in asm, as matmul_q4_act8.cc's maddubs_acc: with intrinsics
// GCC copies and spills the accumulators).
SLUICE_INLINE void signed_dot4_acc(__m256i& acc, __m256i mag, __m256i w, __m256i x, __m256i ones) {
  __m256i t;
  asm("vpsignb %3, %4, %1\n\t"
      "vpmaddubsw %1, %2, %1\n\t"
      "vpmaddwd %5, %1, %1\n\t"
      "vpaddd %1, %0, %0"
      : "+x"(acc), "=&x"(t)
      : "x"(mag), "xm"(w), "x"(x), "x"(ones));
}

// Batched: 4 unpacked weight rows x XV groups of 8 activation rows; lanes are activation rows
// (one int32 sum each, the same exact integer with or without VNNI: with it, sums of biased
// codes less 128 * the sums of q in `bias`).
// y[(8j + l) * ldy + r] for r < nr, 8j + l < na.
template <int XV, Dot8 D>
SLUICE_AVX2_TARGET void batch4_avx2(const WeightBlock4* wb, const ActQuads8* xg, int64_t nb,
                                    float* y, int64_t ldy, int nr, int na) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[4][XV];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < XV; ++j) acc[r][j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const WeightBlock4& W = wb[b];
    const ActQuads8* a[XV];
    for (int j = 0; j < XV; ++j) a[j] = xg + j * nb + b;
    constexpr bool kVnni = D != Dot8::Maddubs;
    __m256i s[4][XV], bias[XV];
    for (int j = 0; j < XV; ++j) {
      bias[j] = _mm256_setzero_si256();
      for (int r = 0; r < 4; ++r) s[r][j] = _mm256_setzero_si256();
    }
#pragma GCC unroll 2
    for (int p = 0; p < 8; ++p) {
      __m256i xv[XV];
      for (int j = 0; j < XV; ++j)
        xv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(a[j]->q[p]));
      if constexpr (kVnni) {
        const __m256i b128 = _mm256_set1_epi8(static_cast<char>(0x80));
        for (int j = 0; j < XV; ++j) dpbusd_acc<D == Dot8::EvexVnni>(bias[j], b128, xv[j]);
      }
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        if constexpr (kVnni) {
          const __m256i bw = _mm256_set1_epi32(load32(&W.biased[r][4 * p]));
          for (int j = 0; j < XV; ++j) dpbusd_acc<D == Dot8::EvexVnni>(s[r][j], bw, xv[j]);
        } else {
          const __m256i mag = _mm256_set1_epi32(load32(&W.mag[r][4 * p]));
          const __m256i code = _mm256_set1_epi32(load32(&W.code[r][4 * p]));
          for (int j = 0; j < XV; ++j) signed_dot4_acc(s[r][j], mag, code, xv[j], ones);
        }
      }
    }
    if constexpr (kVnni)
      for (int r = 0; r < 4; ++r)
        for (int j = 0; j < XV; ++j) s[r][j] = _mm256_sub_epi32(s[r][j], bias[j]);
    for (int j = 0; j < XV; ++j) {
      const __m256 dx = _mm256_load_ps(a[j]->d);
      const __m256 sx = _mm256_load_ps(a[j]->sum);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(W.dw[r]), dx);
        acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][j]), sc, acc[r][j]);
        acc[r][j] = _mm256_fmadd_ps(_mm256_set1_ps(W.ow[r]), sx, acc[r][j]);
      }
    }
  }
  store_batch4(acc, y, ldy, nr, na);
}

// The wide path (biased codes): the shared int8 kernel of quant_avx512.h.
template <bool Two>
constexpr auto batch8x16_avx512 =
    avx512::batch8x16_int8<Two, true, WeightBlock4, ActQuads8, &WeightBlock4::biased>;

void tile_batched(const BlockAct8* xq, const ActQuads8* xg, int64_t i0, int64_t i1, const Weight& w,
                  int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  const Dot8 dot = int8_dot();
  if (dot != Dot8::Maddubs && quant_avx512()) {
    const int64_t ig = avx512::for_each_batch8x16(
        w, i0, i1, r0, r1, xg, y, unpack4, batch8x16_avx512<false>,
        batch8x16_avx512<true>);
    if (ig < i1) tile_rows8(xq, ig, i1, w, r0, r1, y);
    return;
  }
  const int64_t ig = for_each_batch4<WeightBlock4>(
      w, nb, i0, i1, r0, r1,
      [&](const uint8_t* const* wr, WeightBlock4* blocks, const uint8_t* pf) {
        unpack4(wr, nb, blocks, pf);
      },
      [&](auto xv, const WeightBlock4* blocks, int64_t i, int64_t r, int nr, int na) {
        constexpr int XV = decltype(xv)::value;
        const ActQuads8* x = xg + (i / 8) * nb;
        float* yi = y + i * w.rows + r;
        with_dot8(dot, [&](auto d) {
          batch4_avx2<XV, decltype(d)::value>(blocks, x, nb, yi, w.rows, nr, na);
        });
      });
  if (ig < i1) tile_rows8(xq, ig, i1, w, r0, r1, y);
}
#endif

}  // namespace

void matmul_q8_act8_tile(const BlockAct8* xq, const ActQuads8* xg, int64_t i0, int64_t i1,
                         const Weight& w, int64_t r0, int64_t r1, float* y) {
  SLUICE_ASSERT(w.dtype == DType::Q8G32, "matmul_q8_act8_tile is for Q8G32 weights");
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2) {
    SLUICE_ASSERT(!xg || i0 % 8 == 0, "batched quantized tiles start at a group of 8");
    return xg ? tile_batched(xq, xg, i0, i1, w, r0, r1, y) : tile_rows8(xq, i0, i1, w, r0, r1, y);
  }
#endif
  tile_scalar(xq, i0, i1, w, r0, r1, y);
}

}  // namespace sluice::cpu
