// Quantized matmul: weights of the Q4G32/Q8G32/Q8G16/MXFP4 family against int16 activations
// (BlockAct16).
//
// Every path (scalar, AVX2 few-rows, AVX2 batched) computes an output with the same float ops,
// so a row's result never depends on n or on the tiling (batch invariance):
//   acc = 0; for each block b, for each group g (Q8G16: two of 16, else one of 32):
//     acc = fma(float(S), dw * dx, acc);  acc = fma(ow, sx, acc)
// S = exact integer dot of the group's codes and q; sx = sum[g] (Q8G16) or sum[0] + sum[1].
// Only the integer sums differ in how they are computed, and integer adds are exact.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_act16.h"
#include "backend/cpu/quant_avx2.h"
#include "backend/cpu/quant_avx512.h"
#include "backend/cpu/quant_layout.h"
#include "common/assert.h"
#include "common/env.h"
#include "common/half.h"

namespace sluice::cpu {
namespace {

using act16::WeightBlock4;

std::atomic<QuantKernel> g_kernel{cpu_has_avx2_fma_f16c() ? QuantKernel::Avx2
                                                          : QuantKernel::Scalar};

// ---------------------------------------------------------------- scalar fallback

template <DType T>
void tile_scalar(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                 int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t r = r0; r < r1; ++r)
      y[i * w.rows + r] = act16::dot_scalar<T>(w.row(r), xq + i * nb, nb);
}

// ---------------------------------------------------------------- AVX2

#if SLUICE_X86
using namespace avx2;

// Codes of one block as int16: w0 = elements 0..15, w1 = elements 16..31.
template <DType T>
SLUICE_INLINE void unpack_codes(const uint8_t* blk, __m256i& w0, __m256i& w1) {
  if constexpr (T == DType::Q4G32) {
    // Byte j holds elements j (low nibble) and j + 16 (high nibble).
    const __m256i c =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4)));
    w0 = _mm256_and_si256(c, _mm256_set1_epi16(0x0f));
    w1 = _mm256_srli_epi16(c, 4);
  } else if constexpr (T == DType::MXFP4) {
    const __m256i c = mxfp4_codes(blk + kCodesOffset<T>);
    w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(c));
    w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(c, 1));
  } else {
    constexpr int64_t o = kCodesOffset<T>;
    w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + o)));
    w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + o + 16)));
  }
}

// Scales and offsets of group g (dw[g], ow[g]) of block `off` bytes into 8 weight rows.
template <DType T>
SLUICE_INLINE void load_scales8(const uint8_t* const* wr, int64_t off, __m256* dw, __m256* ow) {
  if constexpr (T == DType::MXFP4) {
    dw[0] = mxfp4_scales(dwords<8>(wr, off));
    ow[0] = _mm256_setzero_ps();
  } else if constexpr (kGroups<T> == 1) {
    halves8(dwords<8>(wr, off), dw[0], ow[0]);
  } else {
    halves8(dwords<8>(wr, off), dw[0], dw[1]);
    halves8(dwords<8>(wr, off + 4), ow[0], ow[1]);
  }
}

// Few activation rows: y[k * ldy + r] for 8 weight rows wr[r] (first nr stored) and NX
// activation rows (x rows nb blocks apart). Lanes are weight rows. The next 8 rows (8 * nb
// blocks from pf) are prefetched along: 8 interleaved streams defeat the hardware prefetcher.
template <DType T, int NX>
SLUICE_AVX2_TARGET void rows8_avx2(const uint8_t* const* wr, const BlockAct16* x, int64_t nb,
                                   float* y, int64_t ldy, int nr, const uint8_t* pf) {
  constexpr int G = kGroups<T>;
  __m256 acc[NX];
  for (int k = 0; k < NX; ++k) acc[k] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes<T>;
    for (int64_t c = 0; c < 8 * kBlockBytes<T>; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 8 * off + c), _MM_HINT_T0);
    __m256i w[8][2];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) unpack_codes<T>(wr[r] + off, w[r][0], w[r][1]);
    __m256 dw[G], ow[G];
    load_scales8<T>(wr, off, dw, ow);
#pragma GCC unroll 4
    for (int k = 0; k < NX; ++k) {
      const BlockAct16& a = x[k * nb + b];
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 16));
      __m256i t[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) {
        // madd cannot overflow: |code*q| <= 128*32767, 32 products < 2^31.
        const __m256i p0 = _mm256_madd_epi16(w[r][0], x0), p1 = _mm256_madd_epi16(w[r][1], x1);
        t[r] = G == 1 ? _mm256_add_epi32(p0, p1) : _mm256_hadd_epi32(p0, p1);
      }
      __m256 s[G];
      reduce8<G>(t, s);
      const __m256 dx = _mm256_set1_ps(a.d);
#pragma GCC unroll 2
      for (int g = 0; g < G; ++g) {
        const __m256 sx = _mm256_set1_ps(G == 2 ? a.sum[g] : a.sum[0] + a.sum[1]);
        acc[k] = _mm256_fmadd_ps(s[g], _mm256_mul_ps(dw[g], dx), acc[k]);
        acc[k] = _mm256_fmadd_ps(ow[g], sx, acc[k]);
      }
    }
  }
  store_rows8(acc, y, ldy, nr);
}

template <DType T>
void tile_rows8(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for_each_rows8(
      w, i0, i1, r0, r1,
      [&](auto nx, const uint8_t* const* wr, int64_t i, int64_t r, int nr, const uint8_t* pf) {
        rows8_avx2<T, decltype(nx)::value>(wr, xq + i * nb, nb, y + i * w.rows + r, w.rows, nr, pf);
      });
}

// An MXFP4 block's scales of the 4 rows (offsets 0) into o.
SLUICE_INLINE void mxfp4_scales4(const uint8_t* const* wr, int64_t off, WeightBlock4& o) {
  _mm_store_ps(o.dw[0], _mm256_castps256_ps128(mxfp4_scales(dwords<4>(wr, off))));
  _mm_store_ps(o.ow[0], _mm_setzero_ps());
}

// out[b] for 4 weight rows wr; prefetches the next 4 rows (4 * nb blocks from pf).
template <DType T>
SLUICE_AVX2_TARGET void unpack4(const uint8_t* const* wr, int64_t nb, WeightBlock4* out,
                                const uint8_t* pf) {
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes<T>;
    for (int64_t c = 0; c < 4 * kBlockBytes<T>; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 4 * off + c), _MM_HINT_T0);
    WeightBlock4& o = out[b];
    for (int r = 0; r < 4; ++r) {
      __m256i w0, w1;
      unpack_codes<T>(wr[r] + off, w0, w1);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[r]), w0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[r] + 16), w1);
    }
    // halves8 on 4 rows: lanes 0..3 of lo, hi.
    __m256 lo, hi;
    if constexpr (T == DType::MXFP4) {
      mxfp4_scales4(wr, off, o);
    } else if constexpr (kGroups<T> == 1) {
      halves8(dwords<4>(wr, off), lo, hi);
      _mm_store_ps(o.dw[0], _mm256_castps256_ps128(lo));
      _mm_store_ps(o.ow[0], _mm256_castps256_ps128(hi));
    } else {
      halves8(dwords<4>(wr, off), lo, hi);
      _mm_store_ps(o.dw[0], _mm256_castps256_ps128(lo));
      _mm_store_ps(o.dw[1], _mm256_castps256_ps128(hi));
      halves8(dwords<4>(wr, off + 4), lo, hi);
      _mm_store_ps(o.ow[0], _mm256_castps256_ps128(lo));
      _mm_store_ps(o.ow[1], _mm256_castps256_ps128(hi));
    }
  }
}

// unpack4 for the wide path: each row's 32 codes as one 64-byte store (Q4: both nibbles from
// one widening, shifted per half), the 4 rows' scales and offsets by one byte shuffle.
template <DType T>
SLUICE_AVX512_TARGET void unpack4_avx512(const uint8_t* const* wr, int64_t nb, WeightBlock4* out,
                                         const uint8_t* pf) {
  // Low halves of the 4 dwords to bytes 0..7, high halves to bytes 8..15.
  const __m128i halves = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kBlockBytes<T>;
    // Into L2 (T2): on a Zen 4 VM, c=16 decode medians of 8 alternated runs 505 vs 485 tok/s
    // with T0 (the burst of L1 prefetches stalls on fill buffers, as on the AMX path).
    for (int64_t c = 0; c < 4 * kBlockBytes<T>; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 4 * off + c), _MM_HINT_T2);
    WeightBlock4& o = out[b];
    for (int r = 0; r < 4; ++r) {
      const uint8_t* blk = wr[r] + off;
      __m512i q;
      if constexpr (T == DType::Q4G32) {
        // Byte j holds elements j (low nibble) and j + 16 (high nibble).
        const __m256i c =
            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4)));
        q = _mm512_and_si512(
            _mm512_srlv_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(c), c, 1), shifts),
            _mm512_set1_epi16(0x0f));
      } else if constexpr (T == DType::MXFP4) {
        q = _mm512_cvtepi8_epi16(mxfp4_codes(blk + kCodesOffset<T>));
      } else {
        q = _mm512_cvtepi8_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kCodesOffset<T>)));
      }
      _mm512_store_si512(o.q[r], q);
    }
    if constexpr (T == DType::MXFP4) {
      mxfp4_scales4(wr, off, o);
      continue;
    }
    const __m128i h = _mm_shuffle_epi8(_mm_setr_epi32(load32(wr[0] + off), load32(wr[1] + off),
                                                      load32(wr[2] + off), load32(wr[3] + off)),
                                       halves);
    if constexpr (kGroups<T> == 1) {
      _mm_store_ps(o.dw[0], _mm_cvtph_ps(h));
      _mm_store_ps(o.ow[0], _mm_cvtph_ps(_mm_srli_si128(h, 8)));
    } else {  // dword 0: the two groups' scales, dword 1: their offsets
      _mm_store_ps(o.dw[0], _mm_cvtph_ps(h));
      _mm_store_ps(o.dw[1], _mm_cvtph_ps(_mm_srli_si128(h, 8)));
      const __m128i g =
          _mm_shuffle_epi8(_mm_setr_epi32(load32(wr[0] + off + 4), load32(wr[1] + off + 4),
                                          load32(wr[2] + off + 4), load32(wr[3] + off + 4)),
                           halves);
      _mm_store_ps(o.ow[0], _mm_cvtph_ps(g));
      _mm_store_ps(o.ow[1], _mm_cvtph_ps(_mm_srli_si128(g, 8)));
    }
  }
}

template <DType T>
void tile_batched(bool avx512, const BlockAct16* xq, const ActGroup8* xg, int64_t i0, int64_t i1,
                  const Weight& w, int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  if (avx512) {
    const int64_t ig = avx512::for_each_batch8x16(
        w, i0, i1, r0, r1, xg, y, avx512::unpack_halves<WeightBlock4, unpack4_avx512<T>>,
        act16::batch8x16_avx512<T, false>, act16::batch8x16_avx512<T, true>);
    if (ig < i1) tile_rows8<T>(xq, ig, i1, w, r0, r1, y);
    return;
  }
  const int64_t ig = for_each_batch4<WeightBlock4>(
      w, nb, i0, i1, r0, r1,
      [&](const uint8_t* const* wr, WeightBlock4* blocks, const uint8_t* pf) {
        unpack4<T>(wr, nb, blocks, pf);
      },
      [&](auto xv, const WeightBlock4* blocks, int64_t i, int64_t r, int nr, int na) {
        act16::batch4_avx2<T, decltype(xv)::value>(blocks, xg + (i / 8) * nb, nb,
                                                   y + i * w.rows + r, w.rows, nr, na);
      });
  if (ig < i1) tile_rows8<T>(xq, ig, i1, w, r0, r1, y);
}

// Activation pairs of 8 rows for the batched kernel: per block, the rows' 16 dword pairs
// transposed as two 8 x 8 matrices (rows >= n zero).
SLUICE_AVX2_TARGET void pack_group(const BlockAct16* xq, int64_t n, int64_t nb, int64_t gi,
                                   ActGroup8* out) {
  const int64_t rows = std::clamp<int64_t>(n - gi * 8, 0, 8);
  for (int64_t b = 0; b < nb; ++b) {
    ActGroup8& o = out[b];
    __m256i lo[8], hi[8];  // pairs 0..7 and 8..15 of row l
    for (int l = 0; l < 8; ++l) {
      if (l < rows) {
        const BlockAct16& a = xq[(gi * 8 + l) * nb + b];
        lo[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q));
        hi[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 16));
        o.d[l] = a.d;
        o.sum[0][l] = a.sum[0];
        o.sum[1][l] = a.sum[1];
        o.sum[2][l] = a.sum[0] + a.sum[1];
      } else {
        lo[l] = hi[l] = _mm256_setzero_si256();
        o.d[l] = o.sum[0][l] = o.sum[1][l] = o.sum[2][l] = 0.0f;
      }
    }
    transpose8x8_epi32(lo);
    transpose8x8_epi32(hi);
    for (int p = 0; p < 8; ++p) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[p]), lo[p]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.q[8 + p]), hi[p]);
    }
  }
}
#endif

}  // namespace

QuantKernel quant_kernel() {
  return g_kernel.load(std::memory_order_relaxed);
}

QuantKernel set_quant_kernel(QuantKernel k) {
  if (k == QuantKernel::Avx2 && !cpu_has_avx2_fma_f16c()) k = QuantKernel::Scalar;
  return g_kernel.exchange(k);
}

QuantPaths default_quant_paths() {
  QuantPaths p;
  // SLUICE_CPU_AVX512=0 keeps the 256-bit kernels (A/B runs, VMs that misreport AVX-512).
  p.avx512 = cpu_has_avx512_vnni_zmm() && env::enabled(env::Switch::kCpuAvx512);
  // SLUICE_CPU_AMX=0 keeps the AVX-512 kernels (A/B runs).
  p.amx = env::enabled(env::Switch::kCpuAmx) && cpu_has_amx_int8();
  p.dot8 = cpu_has_avx_vnni()         ? Dot8::VexVnni
           : cpu_has_avx512_vnni_vl() ? Dot8::EvexVnni
                                      : Dot8::Maddubs;
  return p;
}

bool quant_uses_groups(int64_t n) {
#if SLUICE_X86
  return quant_kernel() == QuantKernel::Avx2 && n >= kQuantGroupMinRows;
#else
  return false;
#endif
}

void pack_act_groups(const BlockAct16* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                     ActGroup8* xg) {
#if SLUICE_X86
  for (int64_t gi = g0; gi < g1; ++gi) pack_group(xq, n, nb, gi, xg + gi * nb);
#endif
}

void matmul_quant_tile(const QuantPaths& paths, const BlockAct16* xq, const ActGroup8* xg,
                       int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y) {
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2) {
    SLUICE_ASSERT(!xg || i0 % 8 == 0, "batched quantized tiles start at a group of 8");
    switch (w.dtype) {
      case DType::Q4G32:
        return xg ? tile_batched<DType::Q4G32>(paths.avx512, xq, xg, i0, i1, w, r0, r1, y)
                  : tile_rows8<DType::Q4G32>(xq, i0, i1, w, r0, r1, y);
      case DType::Q8G32:
        return xg ? tile_batched<DType::Q8G32>(paths.avx512, xq, xg, i0, i1, w, r0, r1, y)
                  : tile_rows8<DType::Q8G32>(xq, i0, i1, w, r0, r1, y);
      case DType::Q8G16:
        return xg ? tile_batched<DType::Q8G16>(paths.avx512, xq, xg, i0, i1, w, r0, r1, y)
                  : tile_rows8<DType::Q8G16>(xq, i0, i1, w, r0, r1, y);
      case DType::MXFP4:
        return xg ? tile_batched<DType::MXFP4>(paths.avx512, xq, xg, i0, i1, w, r0, r1, y)
                  : tile_rows8<DType::MXFP4>(xq, i0, i1, w, r0, r1, y);
      default:
        break;
    }
  }
#endif
  switch (w.dtype) {
    case DType::Q4G32:
      return tile_scalar<DType::Q4G32>(xq, i0, i1, w, r0, r1, y);
    case DType::Q8G32:
      return tile_scalar<DType::Q8G32>(xq, i0, i1, w, r0, r1, y);
    case DType::Q8G16:
      return tile_scalar<DType::Q8G16>(xq, i0, i1, w, r0, r1, y);
    case DType::MXFP4:
      return tile_scalar<DType::MXFP4>(xq, i0, i1, w, r0, r1, y);
    case DType::Q4G32R8:
      return matmul_quant_tile_interleaved(paths, xq, xg, i0, i1, w, r0, r1, y);
    default:
      SLUICE_ASSERT(false, "matmul_quant_tile needs a quantized weight");
  }
}

}  // namespace sluice::cpu
