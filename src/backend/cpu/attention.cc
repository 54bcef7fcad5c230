// Paged attention for one (token, head), flash-style: scores for a chunk of positions, then an
// online-softmax update of the running max, denominator and fp32 output accumulator. K/V rows
// are read in place through the block table (no gathering into contiguous buffers).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/attention.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <cmath>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "common/assert.h"

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

// acc[i] = acc[i] * c + p * v[i]
HWY_INLINE void scale_axpy(float* HWY_RESTRICT acc, float c, float p, const float* HWY_RESTRICT v,
                           int64_t len) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto vc = hn::Set(df, c), vp = hn::Set(df, p);
  int64_t i = 0;
  for (; i + N <= len; i += N)
    hn::StoreU(hn::MulAdd(hn::LoadU(df, v + i), vp, hn::Mul(hn::LoadU(df, acc + i), vc)), df,
               acc + i);
  for (; i < len; ++i) acc[i] = acc[i] * c + p * v[i];
}

void AttentionOne(const float* q, const KvLayerView& cache, const int32_t* block_table,
                  int64_t n_ctx, int64_t kvh, float scale, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const int64_t hd = cache.head_dim, bs = cache.block_size;
  const int64_t kv_row = cache.num_kv_heads * hd;
  thread_local std::vector<float> acc_buf;
  acc_buf.assign(static_cast<size_t>(hd), 0.0f);
  float* acc = acc_buf.data();
  HWY_ALIGN float scores[kChunk + 16];  // padded to whole vectors (at most 16 lanes)
  const float* vrow[kChunk];
  float m = -INFINITY, l = 0.0f;
  for (int64_t p0 = 0; p0 < n_ctx; p0 += kChunk) {
    const int64_t len = std::min(kChunk, n_ctx - p0);
    float cmax = -INFINITY;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t p = p0 + j;
      const int64_t blk = block_table[p / bs];
      const int64_t off = ((blk * bs + p % bs) * kv_row) + kvh * hd;
      scores[j] = dot(q, cache.k + off, hd) * scale;
      vrow[j] = cache.v + off;
      cmax = std::max(cmax, scores[j]);
    }
    const float m_new = std::max(m, cmax);
    const float corr = std::exp(m - m_new);  // 0 on the first chunk (m = -inf)
    // p_j = exp(s_j - m_new), vectorized; padded lanes are -inf -> 0.
    const int64_t padded = (len + N - 1) / N * N;
    for (int64_t j = len; j < padded; ++j) scores[j] = -INFINITY;
    const auto vm = hn::Set(df, m_new);
    auto vsum = hn::Zero(df);
    for (int64_t j = 0; j < padded; j += N) {
      const auto e = hn::Exp(df, hn::Sub(hn::Load(df, scores + j), vm));
      hn::Store(e, df, scores + j);
      vsum = hn::Add(vsum, e);
    }
    l = l * corr + hn::GetLane(hn::SumOfLanes(df, vsum));
    scale_axpy(acc, corr, scores[0], vrow[0], hd);
    for (int64_t j = 1; j < len; ++j) scale_axpy(acc, 1.0f, scores[j], vrow[j], hd);
    m = m_new;
  }
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (int64_t i = 0; i < hd; ++i) out[i] = acc[i] * inv;
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(AttentionOne);
void attention_one(const float* q, const KvLayerView& cache, const int32_t* block_table,
                   int64_t n_ctx, int64_t kvh, float scale, float* out) {
  HWY_DYNAMIC_DISPATCH(AttentionOne)(q, cache, block_table, n_ctx, kvh, scale, out);
}
}  // namespace sluice::cpu
#endif
