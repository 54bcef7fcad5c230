#include "model/blocks/attention.h"

#include <algorithm>
#include <cmath>

namespace sluice::blocks {

AttentionWeights attention_weights(const PlacedLayer& L) {
  return AttentionWeights{&L.wq,         &L.wk,
                          &L.wv,         &L.wo,
                          f32(L.q_bias), f32(L.k_bias),
                          f32(L.v_bias), f32(L.q_norm),
                          f32(L.k_norm), L.wq_gate.data ? &L.wq_gate : nullptr};
}

void attend(const ForwardContext& f, Residual& r, const float* norm, const AttentionWeights& w,
            const KvLayerView& cache, const AttentionOptions& o) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  const int64_t n = s.n, hd = c.head_dim;
  const Backend::Product qkv[] = {{w.wq, s.q, w.q_bias},
                                  {w.wk, s.k, w.k_bias},
                                  {w.wv, s.v, w.v_bias},
                                  {w.wq_gate, s.attn_gate}};
  r.normed_products(norm, qkv, w.wq_gate ? 4 : 3);
  QkvInputs in;
  in.q = s.q, in.k = s.k, in.v = s.v;
  in.n = n, in.num_heads = c.num_heads, in.num_kv_heads = c.num_kv_heads, in.head_dim = hd;
  in.q_norm = w.q_norm, in.k_norm = w.k_norm;
  in.eps = c.rms_norm_eps;
  const int64_t rd = c.rope_dim();
  in.rope = o.inv_freq ? RopeParams{rd, o.theta, c.rope_interleaved, o.inv_freq}
                       : RopeParams{rd, c.rope_theta, c.rope_interleaved, f32(f.w.inv_freq)};
  in.positions = s.positions;
  if (s.rope_positions) {  // M-RoPE: [4, n]
    in.positions = s.rope_positions;
    std::copy(c.rope_sections.begin(), c.rope_sections.end(), in.rope.sections);
    in.rope.interleaved_sections = c.rope_sections_interleaved;
  }
  const AttentionBatch& ab = s.attention(cache);
  in.slot_mapping = ab.slot_mapping;
  f.be.prepare_qkv(in, cache);
  const float scale = o.scale > 0.0f ? o.scale : 1.0f / std::sqrt(static_cast<float>(hd));
  f.be.paged_attention(s.q, c.num_heads, cache, ab, scale, s.attn);
}

void attention(const ForwardContext& f, Residual& r, const float* norm, const AttentionWeights& w,
               const KvLayerView& cache, const float* next_norm) {
  attend(f, r, norm, w, cache);
  if (w.wq_gate) {
    const int64_t dim = f.config.num_heads * f.config.head_dim;
    f.be.sigmoid_mul(f.s.attn, f.s.attn_gate, f.s.n, dim, dim);
  }
  r.add_product(f.s.attn, *w.wo, next_norm);
}

}  // namespace sluice::blocks
