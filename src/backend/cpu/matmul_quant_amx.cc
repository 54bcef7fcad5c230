// The batched quantized kernel (int16 activations) on AMX tiles: 16 weight rows x 16
// activation rows per tile product. An int16 activation q is split into bytes, q = 256 * hi +
// lo (hi signed, lo unsigned), so each group's integer dot S = 256 * (codes . hi) + codes . lo
// comes exactly from two byte-quad tile products; the float ops per output are then those of
// matmul_quant.cc (acc = fma(float(S), dw * dx, acc); acc = fma(ow, sx, acc)): the same bits.
//
//   A  tmm0  [16 weight rows, K]      codes (K = 32, or 16 per Q8G16 group)
//   B  tmm1  [K/4, 16 rows x 4]       lo bytes of the activations (ActTile16::lo)
//   B  tmm2  [K/4, 16 rows x 4]       hi bytes
//   C  tmm3  [16 weight rows, 16]     int32 codes . lo;  tmm4: codes . hi (tmm5, tmm6: the
//                                     same for every other group)
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/amx.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/quant_avx2.h"
#include "backend/cpu/quant_layout.h"
#include "common/assert.h"

#if SLUICE_X86
#include <cpuid.h>
#include <immintrin.h>
// GCC 12's AVX-512 conversion intrinsics start from _mm512_undefined_*(): a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace sluice::cpu {

bool cpu_has_amx_int8() {
#if SLUICE_X86 && defined(__linux__)
  static const bool has = [] {
    if (!cpu_has_avx512_vnni_zmm()) return false;
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!((d >> 24) & 1) || !((d >> 25) & 1)) return false;  // AMX-TILE, AMX-INT8
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return has;
#else
  return false;
#endif
}

namespace {

#if SLUICE_X86
#define SLUICE_AMX_TARGET SLUICE_AVX512_TARGET

// One block of 16 weight rows unpacked for the tile product.
struct alignas(64) WeightTile16 {
  uint8_t codes[16][32];  // [row][element]: tmm0's rows (signed but for Q4G32)
  float dw[2][16];        // [group][row]
  float ow[2][16];
};

// Where tmm0 reads the codes of block b: p + b * block_step, rows row_stride bytes apart
// (the unpacked WeightTile16s, or 8-bit codes in place in the weight matrix).
struct TileCodes {
  const uint8_t* p;
  int64_t block_step, row_stride;
};

// The half-precision pairs (lo | hi << 16) of 16 rows as floats: lo halves, hi halves.
SLUICE_AMX_TARGET inline void halves16(__m512i v, float* lo, float* hi) {
  _mm512_store_ps(lo, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v)));
  _mm512_store_ps(hi, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16))));
}

// out[b] for the 16 weight rows wr (all in one matrix, from wr[0]); the codes only when
// `codes`; prefetches the next 16 rows (16 * nb blocks from pf) into L2, not L1: a burst of L1
// prefetches stalled the unpack on fill buffers (T2 vs T0, c=16 decode step: SmolLM2 -3 to -5%,
// Qwen3 shape -9%).
template <DType T>
SLUICE_AMX_TARGET void unpack16(const uint8_t* const* wr, int64_t nb, WeightTile16* out,
                                const uint8_t* pf, bool codes) {
  constexpr int64_t kB = kBlockBytes<T>;
  const uint8_t* base = wr[0];
  alignas(64) int32_t offsets[16];  // bytes from wr[0] (rows may repeat: not a fixed stride)
  for (int r = 0; r < 16; ++r) offsets[r] = static_cast<int32_t>(wr[r] - base);
  const __m512i rows = _mm512_load_si512(offsets);
  // qwords of [r lo | r+1 lo | ...] and [r hi | ...] -> [r lo, r hi, r+1 lo, r+1 hi], ...
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t off = b * kB;
    for (int64_t c = 0; c < 16 * kB; c += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf + 16 * off + c), _MM_HINT_T2);
    WeightTile16& o = out[b];
    if constexpr (T == DType::Q4G32) {
      // Byte j holds elements j (low nibble) and j + 16 (high nibble).
      for (int r = 0; r < 16; r += 4) {
        auto codes16 = [&](int k) {
          return _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[r + k] + off + 4));
        };
        // Lane k = row r + k (immediates: -O0 builds keep no loop constant).
        __m512i v = _mm512_castsi128_si512(codes16(0));
        v = _mm512_inserti32x4(v, codes16(1), 1);
        v = _mm512_inserti32x4(v, codes16(2), 2);
        v = _mm512_inserti32x4(v, codes16(3), 3);
        const __m512i lo = _mm512_and_si512(v, nibble);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
        _mm512_store_si512(o.codes[r], _mm512_permutex2var_epi64(lo, first, hi));
        _mm512_store_si512(o.codes[r + 2], _mm512_permutex2var_epi64(lo, second, hi));
      }
    } else if constexpr (T == DType::MXFP4) {
      for (int r = 0; r < 16; ++r)
        _mm256_store_si256(reinterpret_cast<__m256i*>(o.codes[r]),
                           avx2::mxfp4_codes(wr[r] + off + kCodesOffset<T>));
    } else if (codes) {
      for (int r = 0; r < 16; ++r)
        _mm256_store_si256(
            reinterpret_cast<__m256i*>(o.codes[r]),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r] + off + kCodesOffset<T>)));
    }
    // Scale and offset halves (Q8G16: scales in the first dword, offsets in the second).
    const __m512i s0 = _mm512_i32gather_epi32(rows, base + off, 1);
    if constexpr (T == DType::MXFP4) {  // the exponent bytes: float bits max(e - 1, 0) << 23
      const __m512i e = _mm512_and_si512(s0, _mm512_set1_epi32(0xff));
      const __m512i f =
          _mm512_max_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), _mm512_setzero_si512());
      _mm512_store_si512(o.dw[0], _mm512_slli_epi32(f, 23));
      _mm512_store_ps(o.ow[0], _mm512_setzero_ps());
    } else if constexpr (kGroups<T> == 1) {
      halves16(s0, o.dw[0], o.ow[0]);
    } else {
      halves16(s0, o.dw[0], o.dw[1]);
      halves16(_mm512_i32gather_epi32(rows, base + off + 4, 1), o.ow[0], o.ow[1]);
    }
  }
}

// The tile shapes of dtype T (K bytes of codes per group).
template <DType T>
amx::TileConfig tile_config() {
  constexpr int K = 32 / kGroups<T>;
  amx::TileConfig c;
  c.rows[0] = 16, c.colsb[0] = K;                              // A: codes
  for (int t : {1, 2}) c.rows[t] = K / 4, c.colsb[t] = 64;     // B: lo, hi
  for (int t : {3, 4, 5, 6}) c.rows[t] = 16, c.colsb[t] = 64;  // C: int32 [16][16], 2 pairs
  return c;
}

// acc[m] += float(S[m]) * (dw[m] * dx) + ow[m] * sx for the 16 weight rows m, S = 256 * hi +
// lo (lanes = activation rows): matmul_quant.cc's float ops per output, in their order.
SLUICE_AMX_TARGET inline void fold_sums16(__m512 (&acc)[16], const int32_t (&lo)[16][16],
                                          const int32_t (&hi)[16][16], const float* dw,
                                          const float* ow, __m512 dx, __m512 sx) {
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) {
    const __m512i s =
        _mm512_add_epi32(_mm512_slli_epi32(_mm512_load_si512(hi[m]), 8), _mm512_load_si512(lo[m]));
    const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(dw[m]), dx);
    acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, acc[m]);
    acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(ow[m]), sx, acc[m]);
  }
}

// The same with int8 activations (one sum, S itself): matmul_act8.cc's float ops
// (acc = fma(float(S), dw * dx, acc); acc = fma(ow, sum, acc)).
SLUICE_AMX_TARGET inline void fold_sums16(__m512 (&acc)[16], const int32_t (&sums)[16][16],
                                          const float* dw, const float* ow, __m512 dx, __m512 sx) {
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) {
    const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(dw[m]), dx);
    acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums[m])), sc, acc[m]);
    acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(ow[m]), sx, acc[m]);
  }
}

template <class Tile>
constexpr bool kInt8 = std::is_same_v<Tile, ActTile16Int8>;

// fold_sums16 of group `step` (block step / G, group step % G) from its buffer `sums`.
template <int G, class Tile>
SLUICE_AMX_TARGET inline void fold_step(__m512 (&acc)[16], const int32_t (&sums)[2][16][16],
                                        const WeightTile16* wt, const Tile* xt, int64_t step) {
  const int64_t b = step / G;
  const int g = static_cast<int>(step % G);
  const __m512 dx = _mm512_load_ps(xt[b].d);
  if constexpr (kInt8<Tile>)
    fold_sums16(acc, sums[0], wt[b].dw[0], wt[b].ow[0], dx, _mm512_load_ps(xt[b].sum));
  else
    fold_sums16(acc, sums[0], sums[1], wt[b].dw[g], wt[b].ow[g], dx,
                _mm512_load_ps(xt[b].sum[G == 2 ? g : 2]));
}

// Tile products of group `step` (block step / G, group step % G) into tmm<C>, tmm<C + 1>,
// stored to sums[0] (codes . lo) and sums[1] (codes . hi); int8 activations: codes . q into
// tmm<C> only, stored to sums[0].
template <DType T, int C, class Tile>
SLUICE_AMX_TARGET inline void tile_step(const TileCodes& codes, const Tile* xt, int64_t step,
                                        int32_t (&sums)[2][16][16]) {
  constexpr int G = kGroups<T>, K = 32 / G;
  const int64_t b = step / G;
  const int g = static_cast<int>(step % G);
  amx::tile_load<0>(codes.p + b * codes.block_step + g * K, codes.row_stride);
  if constexpr (kInt8<Tile>) {
    amx::tile_load<1>(xt[b].q[0], 64);
    amx::tile_zero<C>();
    if constexpr (T == DType::Q4G32)
      amx::tdpbusd<C, 0, 1>();
    else
      amx::tdpbssd<C, 0, 1>();
    amx::tile_store<C>(sums[0], 64);
  } else {
    amx::tile_load<1>(xt[b].lo[g * K / 4], 64);
    amx::tile_load<2>(xt[b].hi[g * K / 4], 64);
    amx::tile_zero<C>();
    amx::tile_zero<C + 1>();
    if constexpr (T == DType::Q4G32) {  // unsigned codes
      amx::tdpbuud<C, 0, 1>();
      amx::tdpbusd<C + 1, 0, 2>();
    } else {  // signed codes
      amx::tdpbsud<C, 0, 1>();
      amx::tdpbssd<C + 1, 0, 2>();
    }
    amx::tile_store<C>(sums[0], 64);
    amx::tile_store<C + 1>(sums[1], 64);
  }
}

// y[l * ldy + m] for 16 unpacked weight rows (m < nr) x one column of 16 activation rows
// (l < na; Tile: ActTile16 or ActTile16Int8), blocks [0, nb). Steps alternate between two
// pairs of C tiles and two sums buffers, so one step's products run while the step before is
// folded.
template <DType T, class Tile>
SLUICE_AMX_TARGET void batch16x16_amx(const TileCodes& codes, const WeightTile16* wt,
                                      const Tile* xt, int64_t nb, float* y, int64_t ldy, int nr,
                                      int na) {
  constexpr int G = kGroups<T>;
  alignas(64) int32_t sums[2][2][16][16];  // [buffer][lo, hi][weight row][activation row]
  __m512 acc[16];
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) acc[m] = _mm512_setzero_ps();
  const int64_t steps = nb * G;
  for (int64_t step = 0; step < steps; step += 2) {
    tile_step<T, 3>(codes, xt, step, sums[0]);
    if (step > 0) fold_step<G>(acc, sums[1], wt, xt, step - 1);
    if (step + 1 == steps) {
      fold_step<G>(acc, sums[0], wt, xt, step);
      break;
    }
    tile_step<T, 5>(codes, xt, step + 1, sums[1]);
    fold_step<G>(acc, sums[0], wt, xt, step);
    if (step + 2 == steps) fold_step<G>(acc, sums[1], wt, xt, step + 1);
  }
  alignas(64) float tmp[16][16];
  for (int m = 0; m < 16; ++m) _mm512_store_ps(tmp[m], acc[m]);
  for (int l = 0; l < na; ++l)
    for (int m = 0; m < nr; ++m) y[l * ldy + m] = tmp[m][l];
}

// Weight rows [r0, r1) in groups of 16 (a short last group repeats its last row), each
// unpacked once, times activation rows [i0, i1) in tiles of 16 (i0 % 16 == 0).
template <DType T, class Tile>
void tile_amx(const Tile* xt, int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
              float* y) {
  const int64_t nb = w.cols / kQuantBlock;
  thread_local std::vector<WeightTile16> scratch;  // [nb]
  if (scratch.size() < static_cast<size_t>(nb)) scratch.resize(nb);
  static const amx::TileConfig config = tile_config<T>();
  amx::load_config(config);
  for (int64_t r = r0; r < r1; r += 16) {
    const int nr = static_cast<int>(std::min<int64_t>(16, r1 - r));
    const uint8_t* wr[16];
    for (int j = 0; j < 16; ++j) wr[j] = w.row(r + std::min(j, nr - 1));
    // 8-bit codes of 16 whole rows: tmm0 reads them in place.
    const bool in_place = !kNibbles<T> && nr == 16;
    unpack16<T>(wr, nb, scratch.data(), w.row(std::min(r + 16, w.rows - 1)), !in_place);
    const TileCodes codes = in_place ? TileCodes{wr[0] + kCodesOffset<T>, kBlockBytes<T>,
                                                 static_cast<int64_t>(w.row_stride())}
                                     : TileCodes{scratch[0].codes[0], sizeof(WeightTile16), 32};
    for (int64_t i = i0; i < i1; i += 16)
      batch16x16_amx<T, Tile>(codes, scratch.data(), xt + (i / 16) * nb, nb, y + i * w.rows + r,
                              w.rows, nr, static_cast<int>(std::min<int64_t>(16, i1 - i)));
  }
  amx::release();
}

// One ActTile16 per block for rows 16 * gi .. + 15 (rows >= n zero).
SLUICE_AMX_TARGET void pack_tile16(const BlockAct16* xq, int64_t n, int64_t nb, int64_t gi,
                                   ActTile16* out) {
  for (int64_t b = 0; b < nb; ++b) {
    ActTile16& o = out[b];
    for (int l = 0; l < 16; ++l) {
      const int64_t i = gi * 16 + l;
      alignas(32) uint8_t lo[32], hi[32];
      if (i < n) {
        const BlockAct16& a = xq[i * nb + b];
        const __m512i q = _mm512_loadu_si512(a.q);  // 32 x int16
        _mm256_store_si256(reinterpret_cast<__m256i*>(lo), _mm512_cvtepi16_epi8(q));
        _mm256_store_si256(reinterpret_cast<__m256i*>(hi),
                           _mm512_cvtepi16_epi8(_mm512_srai_epi16(q, 8)));
        o.d[l] = a.d;
        o.sum[0][l] = a.sum[0];
        o.sum[1][l] = a.sum[1];
        o.sum[2][l] = a.sum[0] + a.sum[1];
      } else {
        std::memset(lo, 0, 32);
        std::memset(hi, 0, 32);
        o.d[l] = o.sum[0][l] = o.sum[1][l] = o.sum[2][l] = 0.0f;
      }
      for (int k = 0; k < 8; ++k) {
        std::memcpy(o.lo[k] + 4 * l, lo + 4 * k, 4);
        std::memcpy(o.hi[k] + 4 * l, hi + 4 * k, 4);
      }
    }
  }
}

// One ActTile16Int8 per block for rows 16 * gi .. + 15 (rows >= n zero).
void pack_tile16_int8(const BlockAct8* xq, int64_t n, int64_t nb, int64_t gi, ActTile16Int8* out) {
  for (int64_t b = 0; b < nb; ++b) {
    ActTile16Int8& o = out[b];
    for (int l = 0; l < 16; ++l) {
      const int64_t i = gi * 16 + l;
      const BlockAct8* a = i < n ? &xq[i * nb + b] : nullptr;
      for (int k = 0; k < 8; ++k) {
        if (a)
          std::memcpy(o.q[k] + 4 * l, a->q + 4 * k, 4);
        else
          std::memset(o.q[k] + 4 * l, 0, 4);
      }
      o.d[l] = a ? a->d : 0.0f;
      o.sum[l] = a ? a->sum : 0.0f;
    }
  }
}
#endif

}  // namespace

void pack_act_tiles16(const BlockAct16* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                      ActTile16* xt) {
#if SLUICE_X86
  for (int64_t gi = g0; gi < g1; ++gi) pack_tile16(xq, n, nb, gi, xt + gi * nb);
#endif
}

void pack_act8_tiles16(const BlockAct8* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                       ActTile16Int8* xt) {
#if SLUICE_X86
  for (int64_t gi = g0; gi < g1; ++gi) pack_tile16_int8(xq, n, nb, gi, xt + gi * nb);
#endif
}

void matmul_act8_tile_amx(const QuantPaths& paths, const BlockAct8* xq, const ActTile16Int8* xt,
                          int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
                          float* y) {
  const bool q4 = w.dtype == DType::Q4G32;
  SLUICE_ASSERT(q4 || w.dtype == DType::Q8G32, "int8 activations are for Q4G32 and Q8G32");
  if (!xt) return matmul_act8_tile(paths, xq, nullptr, i0, i1, w, r0, r1, y);
#if SLUICE_X86
  SLUICE_ASSERT(i0 % 16 == 0, "AMX quantized tiles start at a tile of 16 rows");
  return q4 ? tile_amx<DType::Q4G32>(xt, i0, i1, w, r0, r1, y)
            : tile_amx<DType::Q8G32>(xt, i0, i1, w, r0, r1, y);
#endif
}

void matmul_quant_tile_amx(const QuantPaths& paths, const BlockAct16* xq, const ActTile16* xt,
                           int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
                           float* y) {
  if (!xt) return matmul_quant_tile(paths, xq, nullptr, i0, i1, w, r0, r1, y);
#if SLUICE_X86
  SLUICE_ASSERT(i0 % 16 == 0, "AMX quantized tiles start at a tile of 16 rows");
  switch (w.dtype) {
    case DType::Q4G32:
      return tile_amx<DType::Q4G32>(xt, i0, i1, w, r0, r1, y);
    case DType::Q8G32:
      return tile_amx<DType::Q8G32>(xt, i0, i1, w, r0, r1, y);
    case DType::Q8G16:
      return tile_amx<DType::Q8G16>(xt, i0, i1, w, r0, r1, y);
    case DType::MXFP4:
      return tile_amx<DType::MXFP4>(xt, i0, i1, w, r0, r1, y);
    default:
      break;
  }
#endif
  SLUICE_ASSERT(false, "matmul_quant_tile_amx needs a quantized weight and an AMX CPU");
}

}  // namespace sluice::cpu
