// Bidirectional (encoder) attention, vectorized with Highway (dynamic dispatch). Each (sequence,
// head) is first laid out once: K^T in blocks of 2N keys ([len_pad / 2N][head_dim][2N], each block
// contiguous) so a query's scores come 2N keys at a time with no horizontal sums and no strided
// loads, and V [len, hd_pad] zero-padded to whole vectors. Queries then run in
// groups of up to 4 that share every K^T and V load. Every score, softmax sum and output sums in a
// fixed order per query row, whatever group it is in, so a row's result never depends on the rest
// of the batch.
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

// out columns [c0, c0 + NV * N) of NQ queries = (s . V) * inv (NQ x NV accumulators in registers),
// only those below head_dim written.
template <int NQ, int NV>
HWY_INLINE void WeightedValueColumns(const float* s, int64_t len, int64_t len_pad, const float* vp,
                                     int64_t hd_pad, int64_t head_dim, int64_t c0, const float* inv,
                                     float* const* outs) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  hn::Vec<decltype(d)> acc[NQ][NV];
  for (int qi = 0; qi < NQ; ++qi)
    for (int cv = 0; cv < NV; ++cv) acc[qi][cv] = hn::Zero(d);
  for (int64_t j = 0; j < len; ++j) {
    hn::Vec<decltype(d)> vv[NV];
    for (int cv = 0; cv < NV; ++cv) vv[cv] = hn::LoadU(d, vp + j * hd_pad + c0 + cv * N);
    for (int qi = 0; qi < NQ; ++qi) {
      const auto p = hn::Set(d, s[qi * len_pad + j]);
      for (int cv = 0; cv < NV; ++cv) acc[qi][cv] = hn::MulAdd(p, vv[cv], acc[qi][cv]);
    }
  }
  for (int qi = 0; qi < NQ; ++qi)
    for (int cv = 0; cv < NV; ++cv) {
      const int64_t c = c0 + cv * N, live = std::min<int64_t>(N, head_dim - c);
      const auto o = hn::Mul(acc[qi][cv], hn::Set(d, inv[qi]));
      if (live == N)
        hn::StoreU(o, d, outs[qi] + c);
      else if (live > 0)  // the last, partial vector: never write into the next head's columns
        hn::BlendedStore(o, hn::FirstN(d, static_cast<size_t>(live)), d, outs[qi] + c);
    }
}

// out rows of NQ queries = (s . V) * inv over all hd_pad columns, 4 vectors at a time.
template <int NQ>
HWY_INLINE void WeightedValues(const float* s, int64_t len, int64_t len_pad, const float* vp,
                               int64_t hd_pad, int64_t head_dim, const float* inv,
                               float* const* outs) {
  const int64_t N = Lanes();
  int64_t c0 = 0;
  for (; c0 + 4 * N <= hd_pad; c0 += 4 * N)
    WeightedValueColumns<NQ, 4>(s, len, len_pad, vp, hd_pad, head_dim, c0, inv, outs);
  switch ((hd_pad - c0) / N) {
    case 3:
      return WeightedValueColumns<NQ, 3>(s, len, len_pad, vp, hd_pad, head_dim, c0, inv, outs);
    case 2:
      return WeightedValueColumns<NQ, 2>(s, len, len_pad, vp, hd_pad, head_dim, c0, inv, outs);
    case 1:
      return WeightedValueColumns<NQ, 1>(s, len, len_pad, vp, hd_pad, head_dim, c0, inv, outs);
    default:
      return;
  }
}

template <int NQ>
void QueryGroup(const float* q, int64_t row, int64_t off, int64_t head_dim, int64_t t,
                const float* kt, const float* vp, int64_t len, float scale, float* s, float* out) {
  const int64_t N = Lanes(), B = 2 * N;
  const int64_t len_pad = (len + B - 1) / B * B, hd_pad = (head_dim + N - 1) / N * N;
  const float* qs[NQ];
  float* outs[NQ];
  for (int qi = 0; qi < NQ; ++qi) {
    qs[qi] = q + (t + qi) * row + off;
    outs[qi] = out + (t + qi) * row + off;
  }
  for (int64_t j0 = 0; j0 < len_pad; j0 += B)
    ScoreBlock<NQ>(qs, kt + j0 * head_dim, head_dim, scale, s + j0, len_pad);
  float inv[NQ];
  for (int qi = 0; qi < NQ; ++qi) inv[qi] = Softmax(s + qi * len_pad, len, len_pad);
  WeightedValues<NQ>(s, len, len_pad, vp, hd_pad, head_dim, inv, outs);
}

void AttentionRows(const float* q, int64_t row, int64_t head_dim, int64_t h, int64_t b, int64_t e,
                   int64_t t0, int64_t t1, float scale, const float* kt, const float* vp,
                   float* scratch, float* out) {
  const int64_t len = e - b, off = h * head_dim;
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4)
    QueryGroup<4>(q, row, off, head_dim, t, kt, vp, len, scale, scratch, out);
  for (; t < t1; ++t) QueryGroup<1>(q, row, off, head_dim, t, kt, vp, len, scale, scratch, out);
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
  l.scratch = 4 * l.len_pad;
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
