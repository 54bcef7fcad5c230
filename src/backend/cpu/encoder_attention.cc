// Bidirectional (encoder) attention, vectorized with Highway (dynamic dispatch). Each (sequence,
// head) is first laid out once: K^T in blocks of 2N keys ([len_pad / 2N][head_dim][2N], each block
// contiguous) so a query's scores come 2N keys at a time with no horizontal sums and no strided
// loads, and V [len, hd_pad] zero-padded to whole vectors. Up to 16 query rows then walk K^T and
// V once (tiles that stay in cache), in groups of 4 that share each load. Every score, softmax sum
// and output sums in a fixed order per query row, whatever group or tile it is in, so a row's
// result never depends on the rest of the batch.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/encoder_attention.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cmath>

#include "backend/cpu/encoder_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t Lanes() {
  return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

int64_t KeysPerBlock() {
  return 2 * Lanes();
}

void PrepareHead(const float* k, const float* v, int64_t row, int64_t head_dim, int64_t h,
                 int64_t b, int64_t e, float* kt, float* vp) {
  const int64_t N = Lanes(), B = 2 * N, len = e - b, off = h * head_dim;
  const int64_t len_pad = (len + B - 1) / B * B, hd_pad = (head_dim + N - 1) / N * N;
  for (int64_t j0 = 0; j0 < len_pad; j0 += B) {
    float* blk = kt + j0 * head_dim;  // [head_dim][B]
    for (int64_t c = 0; c < head_dim; ++c)
      for (int64_t jj = 0; jj < B; ++jj)
        blk[c * B + jj] = j0 + jj < len ? k[(b + j0 + jj) * row + off + c] : 0.0f;
  }
  for (int64_t j = 0; j < len; ++j) {
    const float* src = v + (b + j) * row + off;
    std::copy(src, src + head_dim, vp + j * hd_pad);
    std::fill(vp + j * hd_pad + head_dim, vp + (j + 1) * hd_pad, 0.0f);
  }
}

// Scores s[qi, j] = (q_qi . k_j) * scale of NQ queries for the 2N keys of one K^T block.
template <int NQ>
HWY_INLINE void ScoreBlock(const float* const* qs, const float* blk, int64_t head_dim, float scale,
                           float* s, int64_t len_pad) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  hn::Vec<decltype(d)> acc[NQ][2];
  for (int qi = 0; qi < NQ; ++qi) acc[qi][0] = acc[qi][1] = hn::Zero(d);
  for (int64_t c = 0; c < head_dim; ++c) {
    const auto k0 = hn::LoadU(d, blk + c * 2 * N), k1 = hn::LoadU(d, blk + c * 2 * N + N);
    for (int qi = 0; qi < NQ; ++qi) {
      const auto qc = hn::Set(d, qs[qi][c]);
      acc[qi][0] = hn::MulAdd(qc, k0, acc[qi][0]);
      acc[qi][1] = hn::MulAdd(qc, k1, acc[qi][1]);
    }
  }
  const auto vscale = hn::Set(d, scale);
  for (int qi = 0; qi < NQ; ++qi) {
    hn::StoreU(hn::Mul(acc[qi][0], vscale), d, s + qi * len_pad);
    hn::StoreU(hn::Mul(acc[qi][1], vscale), d, s + qi * len_pad + N);
  }
}

// Row s[len_pad] of scores -> softmax weights (zero past len); returns 1 / their sum.
float Softmax(float* s, int64_t len, int64_t len_pad) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto neg_inf = hn::Set(d, -INFINITY);
  auto vmax = neg_inf;
  for (int64_t i = 0; i < len_pad; i += N) {
    const auto live = hn::FirstN(d, static_cast<size_t>(std::max<int64_t>(0, len - i)));
    vmax = hn::Max(vmax, hn::IfThenElse(live, hn::LoadU(d, s + i), neg_inf));
  }
  const auto vmx = hn::Set(d, hn::GetLane(hn::MaxOfLanes(d, vmax)));
  auto total = hn::Zero(d);
  for (int64_t i = 0; i < len_pad; i += N) {
    const auto p = hn::Exp(d, hn::Sub(hn::LoadU(d, s + i), vmx));
    const auto live = hn::FirstN(d, static_cast<size_t>(std::max<int64_t>(0, len - i)));
    const auto w = hn::IfThenElseZero(live, p);
    total = hn::Add(total, w);
    hn::StoreU(w, d, s + i);
  }
  return 1.0f / hn::GetLane(hn::SumOfLanes(d, total));
}

// acc[NQ rows][hd_pad] += s[., j] V[j] over keys [j0, j1), columns [c0, c0 + NV * N): NQ x NV
// accumulators in registers, loaded and stored around the tile (each lane still sums its keys
// in order, so the tiling does not change a bit).
template <int NQ, int NV>
HWY_INLINE void AccumulateColumns(const float* s, int64_t len_pad, int64_t j0, int64_t j1,
                                  const float* vp, int64_t hd_pad, int64_t c0, float* acc) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  hn::Vec<decltype(d)> a[NQ][NV];
  for (int qi = 0; qi < NQ; ++qi)
    for (int cv = 0; cv < NV; ++cv) a[qi][cv] = hn::LoadU(d, acc + qi * hd_pad + c0 + cv * N);
  for (int64_t j = j0; j < j1; ++j) {
    hn::Vec<decltype(d)> vv[NV];
    for (int cv = 0; cv < NV; ++cv) vv[cv] = hn::LoadU(d, vp + j * hd_pad + c0 + cv * N);
    for (int qi = 0; qi < NQ; ++qi) {
      const auto p = hn::Set(d, s[qi * len_pad + j]);
      for (int cv = 0; cv < NV; ++cv) a[qi][cv] = hn::MulAdd(p, vv[cv], a[qi][cv]);
    }
  }
  for (int qi = 0; qi < NQ; ++qi)
    for (int cv = 0; cv < NV; ++cv) hn::StoreU(a[qi][cv], d, acc + qi * hd_pad + c0 + cv * N);
}

// AccumulateColumns over all hd_pad columns, 4 vectors at a time.
template <int NQ>
HWY_INLINE void Accumulate(const float* s, int64_t len_pad, int64_t j0, int64_t j1, const float* vp,
                           int64_t hd_pad, float* acc) {
  const int64_t N = Lanes();
  int64_t c0 = 0;
  for (; c0 + 4 * N <= hd_pad; c0 += 4 * N)
    AccumulateColumns<NQ, 4>(s, len_pad, j0, j1, vp, hd_pad, c0, acc);
  switch ((hd_pad - c0) / N) {
    case 3:
      return AccumulateColumns<NQ, 3>(s, len_pad, j0, j1, vp, hd_pad, c0, acc);
    case 2:
      return AccumulateColumns<NQ, 2>(s, len_pad, j0, j1, vp, hd_pad, c0, acc);
    case 1:
      return AccumulateColumns<NQ, 1>(s, len_pad, j0, j1, vp, hd_pad, c0, acc);
    default:
      return;
  }
}

constexpr int64_t kValueTile = 128;  // keys of V per pass of every query group (stays in L1/L2)

// Query rows [t0, t1) (at most kMaxAttentionRows): every K^T block and V tile is read once for
// all of them, in groups of 4 queries (then single ones) that share each load.
void AttentionRows(const float* q, int64_t row, int64_t head_dim, int64_t h, int64_t b, int64_t e,
                   int64_t t0, int64_t t1, float scale, const float* kt, const float* vp,
                   float* scratch, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t N = Lanes(), B = 2 * N, len = e - b, off = h * head_dim, nq = t1 - t0;
  const int64_t len_pad = (len + B - 1) / B * B, hd_pad = (head_dim + N - 1) / N * N;
  const int64_t groups = nq / 4;
  float* s = scratch;                   // [nq, len_pad] scores, then softmax weights
  float* acc = scratch + nq * len_pad;  // [nq, hd_pad] unnormalized outputs
  const float* qs[kMaxAttentionRows];
  for (int64_t r = 0; r < nq; ++r) qs[r] = q + (t0 + r) * row + off;
  for (int64_t j0 = 0; j0 < len_pad; j0 += B) {
    const float* blk = kt + j0 * head_dim;
    for (int64_t g = 0; g < groups; ++g)
      ScoreBlock<4>(qs + 4 * g, blk, head_dim, scale, s + 4 * g * len_pad + j0, len_pad);
    for (int64_t r = 4 * groups; r < nq; ++r)
      ScoreBlock<1>(qs + r, blk, head_dim, scale, s + r * len_pad + j0, len_pad);
  }
  float inv[kMaxAttentionRows];
  for (int64_t r = 0; r < nq; ++r) inv[r] = Softmax(s + r * len_pad, len, len_pad);
  std::fill(acc, acc + nq * hd_pad, 0.0f);
  for (int64_t j0 = 0; j0 < len; j0 += kValueTile) {
    const int64_t j1 = std::min(len, j0 + kValueTile);
    for (int64_t g = 0; g < groups; ++g)
      Accumulate<4>(s + 4 * g * len_pad, len_pad, j0, j1, vp, hd_pad, acc + 4 * g * hd_pad);
    for (int64_t r = 4 * groups; r < nq; ++r)
      Accumulate<1>(s + r * len_pad, len_pad, j0, j1, vp, hd_pad, acc + r * hd_pad);
  }
  for (int64_t r = 0; r < nq; ++r) {
    float* o = out + (t0 + r) * row + off;
    for (int64_t c = 0; c < head_dim; c += N) {
      const auto v = hn::Mul(hn::LoadU(d, acc + r * hd_pad + c), hn::Set(d, inv[r]));
      const int64_t live = std::min<int64_t>(N, head_dim - c);
      if (live == N)
        hn::StoreU(v, d, o + c);
      else  // the last, partial vector: never write into the next head's columns
        hn::BlendedStore(v, hn::FirstN(d, static_cast<size_t>(live)), d, o + c);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(Lanes);
HWY_EXPORT(KeysPerBlock);
HWY_EXPORT(PrepareHead);
HWY_EXPORT(AttentionRows);

BidirectionalHeadLayout bidirectional_head_layout(int64_t len, int64_t head_dim) {
  const int64_t N = HWY_DYNAMIC_DISPATCH(Lanes)(), B = HWY_DYNAMIC_DISPATCH(KeysPerBlock)();
  BidirectionalHeadLayout l;
  l.len_pad = (len + B - 1) / B * B;
  l.hd_pad = (head_dim + N - 1) / N * N;
  l.floats = head_dim * l.len_pad + len * l.hd_pad;
  l.scratch = kMaxAttentionRows * (l.len_pad + l.hd_pad);
  return l;
}
void bidirectional_attention_prepare(const float* k, const float* v, int64_t row, int64_t head_dim,
                                     int64_t h, int64_t b, int64_t e, float* head) {
  const BidirectionalHeadLayout l = bidirectional_head_layout(e - b, head_dim);
  HWY_DYNAMIC_DISPATCH(PrepareHead)
  (k, v, row, head_dim, h, b, e, head, head + head_dim * l.len_pad);
}
void bidirectional_attention_rows(const float* q, int64_t row, int64_t head_dim, int64_t h,
                                  int64_t b, int64_t e, int64_t t0, int64_t t1, float scale,
                                  const float* head, float* scratch, float* out) {
  const BidirectionalHeadLayout l = bidirectional_head_layout(e - b, head_dim);
  HWY_DYNAMIC_DISPATCH(AttentionRows)
  (q, row, head_dim, h, b, e, t0, t1, scale, head, head + head_dim * l.len_pad, scratch, out);
}
}  // namespace sluice::cpu
#endif
