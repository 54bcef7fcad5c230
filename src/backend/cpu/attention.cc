// Paged attention for a tile of query rows (tokens of one sequence x heads sharing a KV head),
// flash-style: scores for a chunk of positions, then an online-softmax update of each row's
// running max, denominator and fp32 output accumulator. K/V rows are read in place through the
// block table (no gathering into contiguous buffers).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/attention.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "common/assert.h"
#include "common/half.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int64_t kChunk = 32;  // positions scored per online-softmax step

HWY_INLINE float dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, int64_t len) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto s0 = hn::Zero(df), s1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * N <= len; i += 2 * N) {
    s0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(df, a + i + N), hn::LoadU(df, b + i + N), s1);
  }
  for (; i + N <= len; i += N) s0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), s0);
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1)));
  for (; i < len; ++i) s += a[i] * b[i];
  return s;
}

// out[r][k] = q_r . k_k for four keys and R query rows sharing them (each key's loads serve
// every row): two accumulators per key and row, then one interleaving reduction of the four keys
// (cheaper than four separate horizontal sums). A row's sums are the same for every R. Vectors
// of up to 16 lanes (AVX-512's whole width).
template <int R>
HWY_INLINE void dot4_rows(const float* const* q, const float* const* k, int64_t len,
                          float* const* out) {
#if HWY_TARGET == HWY_SCALAR
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) out[r][j] = dot(q[r], k[j], len);
#else
  const hn::CappedTag<float, 16> df;
  using V = decltype(hn::Zero(df));
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  if (N != 4 && N != 8 && N != 16) {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 4; ++j) out[r][j] = dot(q[r], k[j], len);
    return;
  }
  V a[R][4], b[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) a[r][j] = b[r][j] = hn::Zero(df);
  int64_t e = 0;
  for (; e + 2 * N <= len; e += 2 * N) {
    V ka[4], kb[4];
    for (int j = 0; j < 4; ++j)
      ka[j] = hn::LoadU(df, k[j] + e), kb[j] = hn::LoadU(df, k[j] + e + N);
    for (int r = 0; r < R; ++r) {
      const V qa = hn::LoadU(df, q[r] + e), qb = hn::LoadU(df, q[r] + e + N);
      for (int j = 0; j < 4; ++j) {
        a[r][j] = hn::MulAdd(qa, ka[j], a[r][j]);
        b[r][j] = hn::MulAdd(qb, kb[j], b[r][j]);
      }
    }
  }
  for (; e + N <= len; e += N)
    for (int r = 0; r < R; ++r) {
      const V qa = hn::LoadU(df, q[r] + e);
      for (int j = 0; j < 4; ++j) a[r][j] = hn::MulAdd(qa, hn::LoadU(df, k[j] + e), a[r][j]);
    }
  const hn::RepartitionToWide<decltype(df)> dw;
  for (int r = 0; r < R; ++r) {
    const V a0 = hn::Add(a[r][0], b[r][0]), a1 = hn::Add(a[r][1], b[r][1]);
    const V a2 = hn::Add(a[r][2], b[r][2]), a3 = hn::Add(a[r][3], b[r][3]);
    // Per 128-bit block: t01 = [a0, a1, a0, a1] pair sums, t23 likewise; u = [a0, a1, a2, a3].
    const auto t01 =
        hn::BitCast(dw, hn::Add(hn::InterleaveLower(df, a0, a1), hn::InterleaveUpper(df, a0, a1)));
    const auto t23 =
        hn::BitCast(dw, hn::Add(hn::InterleaveLower(df, a2, a3), hn::InterleaveUpper(df, a2, a3)));
    const V u = hn::Add(hn::BitCast(df, hn::InterleaveLower(dw, t01, t23)),
                        hn::BitCast(df, hn::InterleaveUpper(dw, t01, t23)));
    HWY_ALIGN float blocks[16];
    hn::Store(u, df, blocks);
    for (int j = 0; j < 4; ++j)
      out[r][j] = N == 16  ? (blocks[j] + blocks[j + 4]) + (blocks[j + 8] + blocks[j + 12])
                  : N == 8 ? blocks[j] + blocks[j + 4]
                           : blocks[j];
    for (int64_t t = e; t < len; ++t)
      for (int j = 0; j < 4; ++j) out[r][j] += q[r][t] * k[j][t];
  }
#endif
}

// acc_r[0, hd) = acc_r * corr_r + sum_j p_r[j] * v_j for R rows sharing the V rows, one fma per
// j in order. Blocks of 4 vectors, then 2, then 1: independent accumulators whose fma chains
// overlap (one chain alone waits on the fma latency), and each element's sum is the same
// whatever block it falls in and whatever R.
template <int R>
HWY_INLINE void weighted_sum_v(float* const* acc, const float* corr, const float* const* p,
                               const float* const* vrow, int64_t len, int64_t hd) {
  const hn::ScalableTag<float> df;
  using V = decltype(hn::Zero(df));
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t e = 0;
  for (; e + 4 * N <= hd; e += 4 * N) {
    V a[R][4];
    for (int r = 0; r < R; ++r)
      for (int i = 0; i < 4; ++i)
        a[r][i] = hn::Mul(hn::LoadU(df, acc[r] + e + i * N), hn::Set(df, corr[r]));
    for (int64_t j = 0; j < len; ++j) {
      const float* v = vrow[j] + e;
      const V v0 = hn::LoadU(df, v), v1 = hn::LoadU(df, v + N);
      const V v2 = hn::LoadU(df, v + 2 * N), v3 = hn::LoadU(df, v + 3 * N);
      for (int r = 0; r < R; ++r) {
        const V pj = hn::Set(df, p[r][j]);
        a[r][0] = hn::MulAdd(v0, pj, a[r][0]);
        a[r][1] = hn::MulAdd(v1, pj, a[r][1]);
        a[r][2] = hn::MulAdd(v2, pj, a[r][2]);
        a[r][3] = hn::MulAdd(v3, pj, a[r][3]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int i = 0; i < 4; ++i) hn::StoreU(a[r][i], df, acc[r] + e + i * N);
  }
  for (; e + N <= hd; e += N) {
    V a[R];
    for (int r = 0; r < R; ++r) a[r] = hn::Mul(hn::LoadU(df, acc[r] + e), hn::Set(df, corr[r]));
    for (int64_t j = 0; j < len; ++j) {
      const V v = hn::LoadU(df, vrow[j] + e);
      for (int r = 0; r < R; ++r) a[r] = hn::MulAdd(v, hn::Set(df, p[r][j]), a[r]);
    }
    for (int r = 0; r < R; ++r) hn::StoreU(a[r], df, acc[r] + e);
  }
  for (; e < hd; ++e)
    for (int r = 0; r < R; ++r) {
      float a0 = acc[r][e] * corr[r];
      for (int64_t j = 0; j < len; ++j) a0 = std::fma(vrow[j][e], p[r][j], a0);
      acc[r][e] = a0;
    }
}

// Running online-softmax state of one query row.
struct RowState {
  float m = -INFINITY, l = 0.0f;
  float* acc = nullptr;  // [head_dim]
};

// A row's online-softmax step over a chunk of `len` scores: they become p_j = exp(scale s_j -
// m_new) in place (padded to whole vectors), the row's max and denominator move on; returns
// the factor the row's earlier sums take (0 on its first chunk).
HWY_INLINE float softmax_chunk(float* scores, int64_t len, float scale, RowState& st) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  float cmax = -INFINITY;
  for (int64_t j = 0; j < len; ++j) {
    scores[j] *= scale;
    cmax = std::max(cmax, scores[j]);
  }
  const float m_new = std::max(st.m, cmax);
  const float corr = std::exp(st.m - m_new);     // 0 on the first chunk (m = -inf)
  const int64_t padded = (len + N - 1) / N * N;  // padded lanes are -inf -> 0
  for (int64_t j = len; j < padded; ++j) scores[j] = -INFINITY;
  const auto vm = hn::Set(df, m_new);
  auto vsum = hn::Zero(df);
  for (int64_t j = 0; j < padded; j += N) {
    const auto e = hn::Exp(df, hn::Sub(hn::Load(df, scores + j), vm));
    hn::Store(e, df, scores + j);
    vsum = hn::Add(vsum, e);
  }
  st.l = st.l * corr + hn::GetLane(hn::SumOfLanes(df, vsum));
  st.m = m_new;
  return corr;
}

// One chunk of `len` positions (K/V rows krow/vrow) folded into the states of R query rows that
// read the same positions (heads sharing a KV head): each V load serves all R rows, each K load
// two (the scores' accumulators of more rows would not fit the registers).
template <int R>
HWY_INLINE void fold_chunk(const float* const* q, const float* const* krow,
                           const float* const* vrow, int64_t len, int64_t hd, float scale,
                           RowState* const* st) {
  HWY_ALIGN float scores[R][kChunk + 16];  // padded to whole vectors (at most 16 lanes)
  int64_t k = 0;
  for (; k + 4 <= len; k += 4) {
    int r = 0;
    for (; r + 2 <= R; r += 2) {
      float* out[2] = {scores[r] + k, scores[r + 1] + k};
      dot4_rows<2>(q + r, krow + k, hd, out);
    }
    if (r < R) {
      float* out[1] = {scores[r] + k};
      dot4_rows<1>(q + r, krow + k, hd, out);
    }
  }
  for (; k < len; ++k)
    for (int r = 0; r < R; ++r) scores[r][k] = dot(q[r], krow[k], hd);
  float corr[R];
  float* acc[R];
  const float* p[R];
  for (int r = 0; r < R; ++r) {
    corr[r] = softmax_chunk(scores[r], len, scale, *st[r]);
    acc[r] = st[r]->acc, p[r] = scores[r];
  }
  weighted_sum_v<R>(acc, corr, p, vrow, len, hd);
}

// Every query row of the tile walks the same chunks of kChunk positions in the same order, so
// a row's result does not depend on the tile it is computed in (decode == prefill bit for bit).
// The tile's rows share each chunk's K/V rows while they are in cache.
void AttentionTile(const AttentionTileArgs& a) {
  const int64_t hd = a.cache->head_dim, bs = a.cache->block_size;
  const int64_t kv_row = a.cache->num_kv_heads * hd;
  const int64_t rows = a.num_tokens * a.num_heads;
  thread_local std::vector<float> acc_buf;
  thread_local std::vector<RowState> states;
  acc_buf.assign(static_cast<size_t>(rows * hd), 0.0f);
  states.assign(static_cast<size_t>(rows), RowState{});
  for (int64_t r = 0; r < rows; ++r) states[r].acc = acc_buf.data() + r * hd;
  // Row i reads positions [first(i), positions[i]]: all of them, or its sliding window's.
  const int64_t window = a.cache->window;
  auto first = [&](int64_t i) {
    return window > 0 ? std::max<int64_t>(0, int64_t{a.positions[i]} + 1 - window) : 0;
  };
  int64_t max_ctx = 0, min_first = INT64_MAX;
  for (int64_t i = 0; i < a.num_tokens; ++i) {
    max_ctx = std::max<int64_t>(max_ctx, a.positions[i] + 1);
    min_first = std::min(min_first, first(i));
  }
  const int64_t p_begin = a.num_tokens > 0 ? min_first / kChunk * kChunk : 0;  // whole chunks
  // K/V rows of chunk c in krow/vrow[c % 2] (found through the block table while the chunk
  // before is folded in). Requesting their cache lines ahead with software prefetches cost ~9%
  // of the decode attention time at 16 sequences on a Xeon VM (2026-11-24): the hardware
  // prefetchers follow the rows. An f16 cache's rows are widened into kf/vf when their chunk is
  // used (f32 math on the stored values, so rows still walk the same chunks the same way): each
  // position's span of the tile's heads at once, so the chunk's rows are read as runs of memory
  // (one KV head's slice at a time read them 1/kv_heads at a time: Qwen3-0.6B shape at 16
  // sequences, 2 of 3 attention samples waited on those loads).
  const bool f16 = a.cache->dtype == KvDtype::F16;
  const int64_t elem = f16 ? 2 : 4;
  const uint8_t* kbase = static_cast<const uint8_t*>(a.cache->k);
  const uint8_t* vbase = static_cast<const uint8_t*>(a.cache->v);
  const void* kraw[2][kChunk];
  const void* vraw[2][kChunk];
  const float* krow[kChunk];
  const float* vrow[kChunk];
  // The tile's KV heads: rows of a whole sequence read each position's K/V row of all heads,
  // one contiguous run of memory.
  const int64_t per_kv = a.heads_per_kv;
  SLUICE_ASSERT(per_kv > 0, "attention tile: heads_per_kv must be positive");
  const int64_t kv_heads = (a.num_heads + per_kv - 1) / per_kv;
  const int64_t span_elems = kv_heads * hd;  // widened floats per position: [kv_heads, hd]
  thread_local std::vector<float> kf, vf;    // [kChunk, kv_heads, hd]
  if (f16) {
    kf.resize(static_cast<size_t>(kChunk * span_elems));
    vf.resize(kf.size());
  }
  auto locate = [&](int64_t p0, int buf) {
    const int64_t span = std::min(kChunk, max_ctx - p0);
    for (int64_t j = 0; j < span; ++j) {
      const int64_t p = p0 + j;
      const int64_t off = ((int64_t{a.block_table[p / bs]} * bs + p % bs) * kv_row) + a.kvh * hd;
      kraw[buf][j] = kbase + off * elem;
      vraw[buf][j] = vbase + off * elem;
    }
  };
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto widen = [&](const void* src, float* dst, int64_t count) {
    const auto* h = static_cast<const hwy::float16_t*>(src);
    int64_t e = 0;
    for (; e + N <= count; e += N) hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, h + e)), df, dst + e);
    for (; e < count; ++e) dst[e] = f16_to_f32(static_cast<const uint16_t*>(src)[e]);
  };
  locate(p_begin, 0);
  for (int64_t p0 = p_begin, c = 0; p0 < max_ctx; p0 += kChunk, ++c) {
    const int buf = static_cast<int>(c % 2);
    if (p0 + kChunk < max_ctx) locate(p0 + kChunk, 1 - buf);
    const int64_t span = std::min(kChunk, max_ctx - p0);
    if (f16)
      for (int64_t j = 0; j < span; ++j) {
        widen(kraw[buf][j], kf.data() + j * span_elems, span_elems);
        widen(vraw[buf][j], vf.data() + j * span_elems, span_elems);
      }
    for (int64_t g = 0; g < kv_heads; ++g) {
      for (int64_t j = 0; j < span; ++j) {  // this KV head's part of each position's row
        if (f16) {
          krow[j] = kf.data() + j * span_elems + g * hd;
          vrow[j] = vf.data() + j * span_elems + g * hd;
        } else {
          krow[j] = static_cast<const float*>(kraw[buf][j]) + g * hd;
          vrow[j] = static_cast<const float*>(vraw[buf][j]) + g * hd;
        }
      }
      const int64_t h1 = std::min(a.num_heads, (g + 1) * per_kv);
      for (int64_t i = 0; i < a.num_tokens; ++i) {
        const int64_t n_ctx = int64_t{a.positions[i]} + 1, lo = std::max<int64_t>(0, first(i) - p0);
        if (p0 >= n_ctx || lo >= kChunk) continue;
        const int64_t len = std::min(kChunk, n_ctx - p0) - lo;
        auto row_q = [&](int64_t h) { return a.q + i * a.token_stride + h * hd; };
        auto row_state = [&](int64_t h) { return &states[i * a.num_heads + h]; };
        // The heads in fours, then a pair, then one: their K/V loads shared.
        auto fold = [&](auto rows, int64_t h) {
          constexpr int R = decltype(rows)::value;
          const float* qr[R];
          RowState* st[R];
          for (int r = 0; r < R; ++r) qr[r] = row_q(h + r), st[r] = row_state(h + r);
          fold_chunk<R>(qr, krow + lo, vrow + lo, len, hd, a.scale, st);
        };
        int64_t h = g * per_kv;
        for (; h + 4 <= h1; h += 4) fold(std::integral_constant<int, 4>{}, h);
        if (h + 2 <= h1) fold(std::integral_constant<int, 2>{}, h), h += 2;
        if (h < h1) fold(std::integral_constant<int, 1>{}, h);
      }
    }
  }
  for (int64_t i = 0; i < a.num_tokens; ++i)
    for (int64_t h = 0; h < a.num_heads; ++h) {
      const RowState& st = states[i * a.num_heads + h];
      // A sink adds exp(sink - m) to the denominator in units of the running max m.
      const float l = a.sinks && st.l > 0.0f ? st.l + std::exp(a.sinks[h] - st.m) : st.l;
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;
      float* o = a.out + i * a.token_stride + h * hd;
      for (int64_t e = 0; e < hd; ++e) o[e] = st.acc[e] * inv;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(AttentionTile);
void attention_tile(const AttentionTileArgs& args) {
  HWY_DYNAMIC_DISPATCH(AttentionTile)(args);
}
}  // namespace sluice::cpu
#endif
