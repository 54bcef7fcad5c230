// The decoder forward pass over one flattened batch (prefill chunks and decodes mixed):
//   x = embed(tokens)
//   per layer: x += o_proj(attn(rope(q,k), kv-cache)) ; x += down(silu(gate(h)) * up(h))
//   logits = lm_head(norm(x[logit_rows]))
#include <algorithm>
#include <cmath>

#include "model/model.h"

namespace sluice {

void Model::forward(Backend& be, const ForwardBatch& b, KvStorage& kv, float* logits) const {
  const ModelConfig& c = config_;
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  const int64_t H = c.hidden_size, HD = c.head_dim, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * HD, kv_dim = c.num_kv_heads * HD;

  std::vector<float> x(n * H);        // [n, hidden] residual stream
  std::vector<float> h(n * H);        // [n, hidden] normed
  std::vector<float> q(n * q_dim);    // [n, heads, hd]
  std::vector<float> k(n * kv_dim);   // [n, kv_heads, hd]
  std::vector<float> v(n * kv_dim);   // [n, kv_heads, hd]
  std::vector<float> attn(n * q_dim); // [n, heads, hd]
  std::vector<float> gate(n * I);     // [n, inter]
  std::vector<float> up(n * I);       // [n, inter]

  RopeParams rope{HD, c.rope_theta, c.rope_interleaved, inv_freq_.data()};
  AttentionBatch ab;
  ab.num_seqs = static_cast<int64_t>(b.query_start.size()) - 1;
  ab.query_start = b.query_start.data();
  ab.positions = b.positions.data();
  ab.block_tables = b.block_tables.data();
  ab.max_blocks_per_seq = b.max_blocks_per_seq;
  ab.slot_mapping = b.slot_mapping.data();
  const float scale = 1.0f / std::sqrt(static_cast<float>(HD));

  be.embedding(embed_, b.tokens.data(), n, x.data());
  for (int64_t li = 0; li < c.num_layers; ++li) {
    const LayerWeights& L = layers_[li];
    const KvLayerView cache = kv.layer(li);
    be.rms_norm(x.data(), n, H, L.attn_norm.data(), c.rms_norm_eps, h.data());
    be.matmul(h.data(), n, L.wq, q.data());
    be.matmul(h.data(), n, L.wk, k.data());
    be.matmul(h.data(), n, L.wv, v.data());
    if (c.attention_bias) {
      be.add_bias(q.data(), n, q_dim, L.q_bias.data());
      be.add_bias(k.data(), n, kv_dim, L.k_bias.data());
      be.add_bias(v.data(), n, kv_dim, L.v_bias.data());
    }
    if (c.qk_norm) {
      be.rms_norm(q.data(), n * c.num_heads, HD, L.q_norm.data(), c.rms_norm_eps, q.data());
      be.rms_norm(k.data(), n * c.num_kv_heads, HD, L.k_norm.data(), c.rms_norm_eps, k.data());
    }
    be.rope(q.data(), n, c.num_heads, HD, b.positions.data(), rope);
    be.rope(k.data(), n, c.num_kv_heads, HD, b.positions.data(), rope);
    be.cache_write(k.data(), v.data(), n, b.slot_mapping.data(), cache);
    be.paged_attention(q.data(), c.num_heads, cache, ab, scale, attn.data());
    be.matmul(attn.data(), n, L.wo, h.data());
    be.add(x.data(), h.data(), n * H);

    be.rms_norm(x.data(), n, H, L.ffn_norm.data(), c.rms_norm_eps, h.data());
    be.matmul(h.data(), n, L.w_gate, gate.data());
    be.matmul(h.data(), n, L.w_up, up.data());
    be.silu_mul(gate.data(), up.data(), n * I, gate.data());
    be.matmul(gate.data(), n, L.w_down, h.data());
    be.add(x.data(), h.data(), n * H);
  }
  // Only the requested rows go through the final norm and the vocabulary projection.
  const int64_t m = static_cast<int64_t>(b.logit_rows.size());
  std::vector<float> last(m * H);  // [m, hidden]
  for (int64_t i = 0; i < m; ++i)
    std::copy_n(x.data() + static_cast<int64_t>(b.logit_rows[i]) * H, H, last.data() + i * H);
  be.rms_norm(last.data(), m, H, final_norm_.data(), c.rms_norm_eps, last.data());
  be.matmul(last.data(), m, lm_head_, logits);
}

}  // namespace sluice
