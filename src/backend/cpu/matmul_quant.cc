// Quantized matmul: weights of the Q4G32/Q8G32/Q8G16 family against int16 activations (BlockAct16).
// Per block: d_w*d_x*sum(code*q) + offset*sum_x (sum_x = d_x*sum(q), per half-group for Q8G16).
// A weight block is loaded and unpacked once for up to 4 activation rows (batched prefill).
#include <algorithm>
#include <atomic>
#include <cstring>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "common/assert.h"
#include "common/half.h"

#if SLUICE_X86
#include <immintrin.h>
#endif

namespace sluice::cpu {
namespace {

std::atomic<QuantKernel> g_kernel{cpu_has_avx2_fma_f16c() ? QuantKernel::Avx2
                                                          : QuantKernel::Scalar};

// ---------------------------------------------------------------- scalar fallback

template <int NX>
void dot_q4g32_scalar(const BlockQ4G32* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
  float acc[NX] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float dw = f16_to_f32(w[b].scale), ow = f16_to_f32(w[b].offset);
    for (int k = 0; k < NX; ++k) {
      const BlockAct16& a = x[k * nb + b];
      int isum = 0;
      for (int j = 0; j < 16; ++j)
        isum += (w[b].codes[j] & 15) * a.q[j] + (w[b].codes[j] >> 4) * a.q[j + 16];
      acc[k] += dw * a.d * static_cast<float>(isum) + ow * (a.sum[0] + a.sum[1]);
    }
  }
  for (int k = 0; k < NX; ++k) y[k * ldy] = acc[k];
}

template <int NX>
void dot_q8g32_scalar(const BlockQ8G32* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
  float acc[NX] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float dw = f16_to_f32(w[b].scale), ow = f16_to_f32(w[b].offset);
    for (int k = 0; k < NX; ++k) {
      const BlockAct16& a = x[k * nb + b];
      int isum = 0;
      for (int j = 0; j < 32; ++j) isum += w[b].codes[j] * a.q[j];
      acc[k] += dw * a.d * static_cast<float>(isum) + ow * (a.sum[0] + a.sum[1]);
    }
  }
  for (int k = 0; k < NX; ++k) y[k * ldy] = acc[k];
}

template <int NX>
void dot_q8g16_scalar(const BlockQ8G16* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
  float acc[NX] = {};
  for (int64_t b = 0; b < nb; ++b) {
    for (int g = 0; g < 2; ++g) {
      const float dw = f16_to_f32(w[b].scale[g]), ow = f16_to_f32(w[b].offset[g]);
      for (int k = 0; k < NX; ++k) {
        const BlockAct16& a = x[k * nb + b];
        int isum = 0;
        for (int j = 16 * g; j < 16 * g + 16; ++j) isum += w[b].codes[j] * a.q[j];
        acc[k] += dw * a.d * static_cast<float>(isum) + ow * a.sum[g];
      }
    }
  }
  for (int k = 0; k < NX; ++k) y[k * ldy] = acc[k];
}

// ---------------------------------------------------------------- AVX2

#if SLUICE_X86
// Scale and offset halves at the start of a block (any alignment).
SLUICE_AVX2_TARGET inline __m128 load_scale_offset(const void* blk) {
  int32_t v;
  std::memcpy(&v, blk, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(v));  // [scale, offset, 0, 0]
}

SLUICE_AVX2_TARGET inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One weight block unpacked once (codes widened to int16) and reused for every activation row.
struct Unpacked {
  __m256i w0, w1;  // codes of elements 0..15 and 16..31 as int16
  __m256 dw;       // scale broadcast (Q8G16: [s0, s0, s1, s1] in each 128-bit lane)
  __m256 ow;       // offset in lanes 0, 1 (Q8G16: offset[0], offset[1]); zero above lane 3
};

template <DType T>
SLUICE_AVX2_TARGET inline __attribute__((always_inline)) Unpacked unpack(const uint8_t* blk) {
  Unpacked u;
  if constexpr (T == DType::Q4G32) {
    const __m128 so = load_scale_offset(blk);  // [s, o, 0, 0]
    u.dw = _mm256_broadcastss_ps(so);
    u.ow = _mm256_zextps128_ps256(_mm_movehdup_ps(so));  // [o, o, 0, 0]: sx lanes 0, 1
    // Byte j holds elements j (low nibble) and j + 16 (high nibble).
    const __m256i c =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4)));
    u.w0 = _mm256_and_si256(c, _mm256_set1_epi16(0x0f));
    u.w1 = _mm256_srli_epi16(c, 4);
  } else if constexpr (T == DType::Q8G32) {
    const __m128 so = load_scale_offset(blk);
    u.dw = _mm256_broadcastss_ps(so);
    u.ow = _mm256_zextps128_ps256(_mm_movehdup_ps(so));
    u.w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 4)));
    u.w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 20)));
  } else {
    // [s0, s1, o0, o1]
    const __m128 so = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk)));
    const __m128 s = _mm_shuffle_ps(so, so, 0x50);  // [s0, s0, s1, s1]
    u.dw = _mm256_set_m128(s, s);
    u.ow = _mm256_zextps128_ps256(_mm_movehl_ps(so, so));  // [o0, o1, o0, o1]
    u.w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 8)));
    u.w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 24)));
  }
  return u;
}

// acc += d_w*d_x * sum(code*q) (8 int32 lanes converted) + offset * [sum0, sum1, 0..].
// madd_epi16 cannot overflow: |code*q| <= 128*32767, 32 products < 2^31.
template <DType T>
SLUICE_AVX2_TARGET inline __attribute__((always_inline)) void block_dot(const Unpacked& u,
                                                                        const BlockAct16& a,
                                                                        __m256& acc) {
  const __m256i p0 =
      _mm256_madd_epi16(u.w0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q)));
  const __m256i p1 =
      _mm256_madd_epi16(u.w1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + 16)));
  // Q8G16: p0 is all group 0, p1 all group 1 -> [g0, g0, g1, g1] per 128-bit lane, as u.dw.
  const __m256i p = T == DType::Q8G16 ? _mm256_add_epi32(_mm256_unpacklo_epi64(p0, p1),
                                                         _mm256_unpackhi_epi64(p0, p1))
                                      : _mm256_add_epi32(p0, p1);
  const __m256 sx = _mm256_zextps128_ps256(
      _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a.sum))));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(u.dw, _mm256_broadcast_ss(&a.d)), acc);
  acc = _mm256_fmadd_ps(u.ow, sx, acc);
}

// y[k * ldy] = dot(weight row w, activation row k) for k < NX; x rows are nb blocks apart.
// Two blocks per step with separate accumulators for every NX, so the FMA chains overlap and a
// row's summation order never depends on NX (batch invariance: a row's result is the same
// whatever else shares the matmul).
template <DType T, int NX>
SLUICE_AVX2_TARGET void dot_avx2(const uint8_t* w, const BlockAct16* x, int64_t nb, float* y,
                                 int64_t ldy) {
  constexpr size_t kBytes = T == DType::Q4G32   ? sizeof(BlockQ4G32)
                            : T == DType::Q8G32 ? sizeof(BlockQ8G32)
                                                : sizeof(BlockQ8G16);
  constexpr int64_t kPrefetchBlocks = 48;  // ~1 KiB ahead
  __m256 acc[NX][2];
#pragma GCC unroll 8
  for (int k = 0; k < NX; ++k) acc[k][0] = acc[k][1] = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    // The weight stream is read once: fetch ahead so DRAM latency overlaps the math.
    _mm_prefetch(reinterpret_cast<const char*>(w + (b + kPrefetchBlocks) * kBytes), _MM_HINT_T0);
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      const Unpacked wu = unpack<T>(w + (b + u) * kBytes);
#pragma GCC unroll 8
      for (int k = 0; k < NX; ++k) block_dot<T>(wu, x[k * nb + b + u], acc[k][u]);
    }
  }
  if (b < nb) {
    const Unpacked wu = unpack<T>(w + b * kBytes);
#pragma GCC unroll 8
    for (int k = 0; k < NX; ++k) block_dot<T>(wu, x[k * nb + b], acc[k][0]);
  }
#pragma GCC unroll 8
  for (int k = 0; k < NX; ++k) y[k * ldy] = hsum8(_mm256_add_ps(acc[k][0], acc[k][1]));
}
#endif

// Calls KERNEL<NX> for NX = min(4, rows left) activation rows.
template <template <int> class K, typename... Args>
void with_nx(int nx, Args... args) {
  switch (nx) {
    case 4:
      K<4>::run(args...);
      break;
    case 3:
      K<3>::run(args...);
      break;
    case 2:
      K<2>::run(args...);
      break;
    default:
      K<1>::run(args...);
      break;
  }
}

#define SLUICE_KERNEL_WRAPPER(name, fn, Block)                                                  \
  template <int NX>                                                                             \
  struct name {                                                                                 \
    static void run(const uint8_t* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) { \
      fn<NX>(reinterpret_cast<const Block*>(w), x, nb, y, ldy);                                 \
    }                                                                                           \
  };
SLUICE_KERNEL_WRAPPER(Q4Scalar, dot_q4g32_scalar, BlockQ4G32)
SLUICE_KERNEL_WRAPPER(Q8Scalar, dot_q8g32_scalar, BlockQ8G32)
SLUICE_KERNEL_WRAPPER(Q816Scalar, dot_q8g16_scalar, BlockQ8G16)
#if SLUICE_X86
template <int NX>
struct Q4Avx2 {
  static void run(const uint8_t* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
    dot_avx2<DType::Q4G32, NX>(w, x, nb, y, ldy);
  }
};
template <int NX>
struct Q8Avx2 {
  static void run(const uint8_t* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
    dot_avx2<DType::Q8G32, NX>(w, x, nb, y, ldy);
  }
};
template <int NX>
struct Q816Avx2 {
  static void run(const uint8_t* w, const BlockAct16* x, int64_t nb, float* y, int64_t ldy) {
    dot_avx2<DType::Q8G16, NX>(w, x, nb, y, ldy);
  }
};
#endif
#undef SLUICE_KERNEL_WRAPPER

template <template <int> class K>
void tile(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
          float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  for (int64_t i = i0; i < i1; i += 4) {
    const int nx = static_cast<int>(std::min<int64_t>(4, i1 - i));
    for (int64_t r = r0; r < r1; ++r)
      with_nx<K>(nx, w.row(r), xq + i * nb, nb, y + i * w.rows + r, w.rows);
  }
}

}  // namespace

QuantKernel quant_kernel() {
  return g_kernel.load(std::memory_order_relaxed);
}

QuantKernel set_quant_kernel(QuantKernel k) {
  if (k == QuantKernel::Avx2 && !cpu_has_avx2_fma_f16c()) k = QuantKernel::Scalar;
  return g_kernel.exchange(k);
}

void matmul_quant_tile(const BlockAct16* xq, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                       int64_t r1, float* y) {
#if SLUICE_X86
  if (quant_kernel() == QuantKernel::Avx2) {
    switch (w.dtype) {
      case DType::Q4G32:
        return tile<Q4Avx2>(xq, i0, i1, w, r0, r1, y);
      case DType::Q8G32:
        return tile<Q8Avx2>(xq, i0, i1, w, r0, r1, y);
      case DType::Q8G16:
        return tile<Q816Avx2>(xq, i0, i1, w, r0, r1, y);
      default:
        break;
    }
  }
#endif
  switch (w.dtype) {
    case DType::Q4G32:
      return tile<Q4Scalar>(xq, i0, i1, w, r0, r1, y);
    case DType::Q8G32:
      return tile<Q8Scalar>(xq, i0, i1, w, r0, r1, y);
    case DType::Q8G16:
      return tile<Q816Scalar>(xq, i0, i1, w, r0, r1, y);
    default:
      SLUICE_ASSERT(false, "matmul_quant_tile needs a quantized weight");
  }
}

}  // namespace sluice::cpu
