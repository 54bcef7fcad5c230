// Reference paged attention: gathers each sequence's K/V into contiguous buffers through its
// block table, then computes plain (two-pass) causal softmax attention per token and head.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/reference/ref_ops.h"
#include "common/assert.h"

namespace sluice::ref {

void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, float scale, float* out) {
  const int64_t hd = cache.head_dim, nkv = cache.num_kv_heads, bs = cache.block_size;
  SLUICE_ASSERT(num_heads % nkv == 0, "num_heads must be a multiple of num_kv_heads");
  const int64_t group = num_heads / nkv;
  const int64_t kv_row = nkv * hd;
  for (int64_t s = 0; s < batch.num_seqs; ++s) {
    const int64_t t0 = batch.query_start[s], t1 = batch.query_start[s + 1];
    if (t1 <= t0) continue;
    int64_t len = 0;
    for (int64_t t = t0; t < t1; ++t) len = std::max<int64_t>(len, batch.positions[t] + 1);
    // Contiguous K/V of this sequence: [len, nkv, hd].
    std::vector<float> k(static_cast<size_t>(len * kv_row)), v(k.size());
    for (int64_t p = 0; p < len; ++p) {
      const int64_t blk = batch.block_tables[s * batch.max_blocks_per_seq + p / bs];
      SLUICE_ASSERT(blk >= 0 && blk < cache.num_blocks, "block id out of range");
      const int64_t src = (blk * bs + p % bs) * kv_row;
      std::memcpy(&k[p * kv_row], cache.k_f32() + src, sizeof(float) * kv_row);
      std::memcpy(&v[p * kv_row], cache.v_f32() + src, sizeof(float) * kv_row);
    }
    std::vector<double> scores(static_cast<size_t>(len));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n_ctx = batch.positions[t] + 1;
      const int64_t first = cache.window > 0 ? std::max<int64_t>(0, n_ctx - cache.window) : 0;
      for (int64_t h = 0; h < num_heads; ++h) {
        const int64_t kvh = h / group;
        const float* qh = q + (t * num_heads + h) * hd;
        const double sink = cache.sinks ? cache.sinks[h] : -INFINITY;
        double mx = sink;
        for (int64_t p = first; p < n_ctx; ++p) {
          const float* kp = &k[p * kv_row + kvh * hd];
          double dot = 0.0;
          for (int64_t c = 0; c < hd; ++c) dot += static_cast<double>(qh[c]) * kp[c];
          scores[p] = dot * scale;
          mx = std::max(mx, scores[p]);
        }
        double denom = cache.sinks ? std::exp(sink - mx) : 0.0;
        for (int64_t p = first; p < n_ctx; ++p) {
          scores[p] = std::exp(scores[p] - mx);
          denom += scores[p];
        }
        float* oh = out + (t * num_heads + h) * hd;
        for (int64_t c = 0; c < hd; ++c) {
          double acc = 0.0;
          for (int64_t p = first; p < n_ctx; ++p) acc += scores[p] * v[p * kv_row + kvh * hd + c];
          oh[c] = static_cast<float>(acc / denom);
        }
      }
    }
  }
}

}  // namespace sluice::ref
