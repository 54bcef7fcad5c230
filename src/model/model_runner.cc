// The decoder forward pass over one flattened batch (prefill chunks and decodes mixed):
//   x = embed(tokens)
//   per layer: x += o_proj(attn(rope(q,k), kv-cache)) ; x += down(silu(gate(h)) * up(h))
//   logits = lm_head(norm(x[logit_rows]))
#include "model/model_runner.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace sluice {

namespace {
// Unique over the process, so runners sharing a backend never reuse each other's ids.
uint64_t next_batch_id() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

const float* f32(const Weight& w) {
  return reinterpret_cast<const float*>(w.data);
}
}  // namespace

Weight ModelRunner::place_vector(const std::vector<float>& v) {
  if (v.empty()) return Weight{};
  return be_.place(Weight::from_mapped(DType::F32, 1, static_cast<int64_t>(v.size()),
                                       reinterpret_cast<const uint8_t*>(v.data())));
}

ModelRunner::ModelRunner(const Model& model, Backend& be)
    : model_(model), be_(be), x_(be), h_(be), q_(be), k_(be), v_(be), attn_(be), gate_(be),
      up_(be), last_(be), logits_(be), tokens_(be), positions_(be), query_start_(be),
      block_tables_(be), slot_mapping_(be), rows_(be) {
  embed_ = be.place(model.embed_);
  // Tied embeddings share one placed copy.
  lm_head_ = model.lm_head_.data == model.embed_.data ? embed_ : be.place(model.lm_head_);
  final_norm_ = place_vector(model.final_norm_);
  inv_freq_ = place_vector(model.inv_freq_);
  for (const LayerWeights& L : model.layers_) {
    layers_.push_back(Layer{place_vector(L.attn_norm), place_vector(L.ffn_norm),
                            place_vector(L.q_norm), place_vector(L.k_norm),
                            place_vector(L.q_bias), place_vector(L.k_bias),
                            place_vector(L.v_bias), be.place(L.wq), be.place(L.wk),
                            be.place(L.wv), be.place(L.wo), be.place(L.w_gate),
                            be.place(L.w_up), be.place(L.w_down)});
  }
}

void ModelRunner::forward(const ForwardBatch& b, KvStorage& kv, float* logits) {
  const ModelConfig& c = model_.config();
  Backend& be = be_;
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  const int64_t m = static_cast<int64_t>(b.logit_rows.size());
  const int64_t H = c.hidden_size, HD = c.head_dim, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * HD, kv_dim = c.num_kv_heads * HD;

  float* x = x_.reserve(n * H);           // [n, hidden] residual stream
  float* h = h_.reserve(n * H);           // [n, hidden] normed
  float* q = q_.reserve(n * q_dim);       // [n, heads, hd]
  float* k = k_.reserve(n * kv_dim);      // [n, kv_heads, hd]
  float* v = v_.reserve(n * kv_dim);      // [n, kv_heads, hd]
  float* attn = attn_.reserve(n * q_dim); // [n, heads, hd]
  float* gate = gate_.reserve(n * I);     // [n, inter]
  float* up = up_.reserve(n * I);         // [n, inter]
  float* last = last_.reserve(m * H);     // [m, hidden]

  const int32_t* tokens = tokens_.upload(b.tokens);
  const int32_t* positions = positions_.upload(b.positions);
  RopeParams rope{HD, c.rope_theta, c.rope_interleaved, f32(inv_freq_)};
  AttentionBatch ab;
  ab.num_seqs = static_cast<int64_t>(b.query_start.size()) - 1;
  ab.num_tokens = n;
  for (int32_t p : b.positions) ab.max_context = std::max<int64_t>(ab.max_context, p + 1);
  ab.query_start = query_start_.upload(b.query_start);
  ab.positions = positions;
  ab.block_tables = block_tables_.upload(b.block_tables);
  ab.max_blocks_per_seq = b.max_blocks_per_seq;
  ab.slot_mapping = slot_mapping_.upload(b.slot_mapping);
  ab.host_query_start = b.query_start.data();
  ab.host_positions = b.positions.data();
  ab.id = next_batch_id();
  const float scale = 1.0f / std::sqrt(static_cast<float>(HD));

  be.embedding(embed_, tokens, n, x);
  for (int64_t li = 0; li < c.num_layers; ++li) {
    const Layer& L = layers_[li];
    const KvLayerView cache = kv.layer(li);
    be.rms_norm(x, n, H, f32(L.attn_norm), c.rms_norm_eps, h);
    be.matmul(h, n, L.wq, q);
    be.matmul(h, n, L.wk, k);
    be.matmul(h, n, L.wv, v);
    if (c.attention_bias) {
      be.add_bias(q, n, q_dim, f32(L.q_bias));
      be.add_bias(k, n, kv_dim, f32(L.k_bias));
      be.add_bias(v, n, kv_dim, f32(L.v_bias));
    }
    if (c.qk_norm) {
      be.rms_norm(q, n * c.num_heads, HD, f32(L.q_norm), c.rms_norm_eps, q);
      be.rms_norm(k, n * c.num_kv_heads, HD, f32(L.k_norm), c.rms_norm_eps, k);
    }
    be.rope(q, n, c.num_heads, HD, positions, rope);
    be.rope(k, n, c.num_kv_heads, HD, positions, rope);
    be.cache_write(k, v, n, ab.slot_mapping, cache);
    be.paged_attention(q, c.num_heads, cache, ab, scale, attn);
    be.matmul(attn, n, L.wo, h);
    be.add(x, h, n * H);

    be.rms_norm(x, n, H, f32(L.ffn_norm), c.rms_norm_eps, h);
    be.matmul(h, n, L.w_gate, gate);
    be.matmul(h, n, L.w_up, up);
    be.silu_mul(gate, up, n * I, gate);
    be.matmul(gate, n, L.w_down, h);
    be.add(x, h, n * H);
  }
  // Only the requested rows go through the final norm and the vocabulary projection.
  be.gather_rows(x, rows_.upload(b.logit_rows), m, H, last);
  be.rms_norm(last, m, H, f32(final_norm_), c.rms_norm_eps, last);
  const int64_t vocab = c.vocab_size;
  if (be.host_resident()) {
    be.matmul(last, m, lm_head_, logits);
  } else {
    float* dev_logits = logits_.reserve(m * vocab);  // [m, vocab]
    be.matmul(last, m, lm_head_, dev_logits);
    be.to_host(logits, dev_logits, sizeof(float) * m * vocab);
  }
}

void ModelRunner::warm_up(KvStorage& kv) {
  std::vector<float> logits(model_.config().vocab_size);
  for (int32_t n : {1, 32}) {
    ForwardBatch b;
    b.tokens.assign(n, 0);
    b.query_start = {0, n};
    b.max_blocks_per_seq = (n + kv.block_size() - 1) / kv.block_size();
    b.block_tables.assign(b.max_blocks_per_seq, 0);
    for (int32_t p = 0; p < n; ++p) {
      b.positions.push_back(p);
      b.slot_mapping.push_back(static_cast<int32_t>(p % kv.block_size()));
    }
    b.logit_rows = {n - 1};
    forward(b, kv, logits.data());
  }
}

}  // namespace sluice
