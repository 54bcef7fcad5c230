// Bidirectional (encoder) attention rows, vectorized with Highway (dynamic dispatch). K of the
// (sequence, head) is transposed into scratch so a query's scores come 16 keys at a time with no
// horizontal sums; every score, softmax sum and output sums in a fixed order per query row, so a
// row's result never depends on the rest of the batch.
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

void AttentionRows(const float* q, const float* k, const float* v, int64_t row, int64_t head_dim,
                   int64_t h, int64_t b, int64_t e, int64_t t0, int64_t t1, float scale,
                   float* scratch, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t len = e - b, off = h * head_dim, padded = (len + N - 1) / N * N;
  float* kt = scratch;                     // [head_dim, padded] K^T of this head, zero-padded
  float* s = scratch + head_dim * padded;  // [padded] one query's scores, then weights
  for (int64_t c = 0; c < head_dim; ++c) {
    float* ktc = kt + c * padded;
    for (int64_t j = 0; j < len; ++j) ktc[j] = k[(b + j) * row + off + c];
    std::fill(ktc + len, ktc + padded, 0.0f);
  }
  const auto vscale = hn::Set(d, scale);
  for (int64_t t = t0; t < t1; ++t) {
    const float* qt = q + t * row + off;
    int64_t j = 0;
    for (; j + 2 * N <= padded; j += 2 * N) {  // two independent chains over the columns
      auto a0 = hn::Zero(d), a1 = hn::Zero(d);
      for (int64_t c = 0; c < head_dim; ++c) {
        const auto qc = hn::Set(d, qt[c]);
        a0 = hn::MulAdd(qc, hn::LoadU(d, kt + c * padded + j), a0);
        a1 = hn::MulAdd(qc, hn::LoadU(d, kt + c * padded + j + N), a1);
      }
      hn::StoreU(hn::Mul(a0, vscale), d, s + j);
      hn::StoreU(hn::Mul(a1, vscale), d, s + j + N);
    }
    for (; j < padded; j += N) {
      auto a = hn::Zero(d);
      for (int64_t c = 0; c < head_dim; ++c)
        a = hn::MulAdd(hn::Set(d, qt[c]), hn::LoadU(d, kt + c * padded + j), a);
      hn::StoreU(hn::Mul(a, vscale), d, s + j);
    }
    float mx = -INFINITY;
    for (int64_t i = 0; i < len; ++i) mx = std::max(mx, s[i]);
    const auto vmx = hn::Set(d, mx);
    auto total = hn::Zero(d);
    for (int64_t i = 0; i < padded; i += N) {
      const auto p = hn::Exp(d, hn::Sub(hn::LoadU(d, s + i), vmx));
      const auto live = hn::FirstN(d, static_cast<size_t>(std::max<int64_t>(0, len - i)));
      const auto w = hn::IfThenElseZero(live, p);
      total = hn::Add(total, w);
      hn::StoreU(w, d, s + i);
    }
    const float inv = 1.0f / hn::GetLane(hn::SumOfLanes(d, total));
    float* o = out + t * row + off;
    const float* vh = v + b * row + off;
    int64_t c0 = 0;
    for (; c0 + N <= head_dim; c0 += N) {
      auto a = hn::Zero(d);
      for (int64_t i = 0; i < len; ++i)
        a = hn::MulAdd(hn::Set(d, s[i]), hn::LoadU(d, vh + i * row + c0), a);
      hn::StoreU(hn::Mul(a, hn::Set(d, inv)), d, o + c0);
    }
    for (; c0 < head_dim; ++c0) {
      float a = 0.0f;
      for (int64_t i = 0; i < len; ++i) a += s[i] * vh[i * row + c0];
      o[c0] = a * inv;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(AttentionRows);
void bidirectional_attention_rows(const float* q, const float* k, const float* v, int64_t row,
                                  int64_t head_dim, int64_t h, int64_t b, int64_t e, int64_t t0,
                                  int64_t t1, float scale, float* scratch, float* out) {
  HWY_DYNAMIC_DISPATCH(AttentionRows)(q, k, v, row, head_dim, h, b, e, t0, t1, scale, scratch, out);
}
int64_t bidirectional_attention_scratch(int64_t max_len, int64_t head_dim) {
  const int64_t padded = max_len + 64;  // more than any target's lanes
  return head_dim * padded + padded;
}
}  // namespace sluice::cpu
#endif
