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
// Decode steps of at most this many sequences replay recordings (the weight-streaming matmul
// serves them; larger steps are long enough that launching their kernels costs little).
constexpr size_t kMaxRecordedTokens = 8;

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
      block_tables_(be), slot_mapping_(be), rows_(be), argmax_(be) {
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

ModelRunner::~ModelRunner() {
  if (host_logits_) be_.release_host(host_logits_);
}

ModelRunner::Step ModelRunner::prepare(const ForwardBatch& b) {
  const ModelConfig& c = model_.config();
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  const int64_t m = static_cast<int64_t>(b.logit_rows.size());
  const int64_t H = c.hidden_size, HD = c.head_dim, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * HD, kv_dim = c.num_kv_heads * HD;
  Step s;
  s.n = n;
  s.m = m;
  s.x = x_.reserve(n * H);           // [n, hidden] residual stream
  s.h = h_.reserve(n * H);           // [n, hidden] normed
  s.q = q_.reserve(n * q_dim);       // [n, heads, hd]
  s.k = k_.reserve(n * kv_dim);      // [n, kv_heads, hd]
  s.v = v_.reserve(n * kv_dim);      // [n, kv_heads, hd]
  s.attn = attn_.reserve(n * q_dim); // [n, heads, hd]
  s.gate = gate_.reserve(n * I);     // [n, inter]
  s.up = up_.reserve(n * I);         // [n, inter]
  s.last = last_.reserve(m * H);     // [m, hidden]
  s.logits = logits_.reserve(m * c.vocab_size);

  s.tokens = tokens_.upload(b.tokens);
  s.positions = positions_.upload(b.positions);
  s.rows = rows_.upload(b.logit_rows);
  AttentionBatch& ab = s.ab;
  ab.num_seqs = static_cast<int64_t>(b.query_start.size()) - 1;
  ab.num_tokens = n;
  for (int32_t p : b.positions) ab.max_context = std::max<int64_t>(ab.max_context, p + 1);
  ab.query_start = query_start_.upload(b.query_start);
  ab.positions = s.positions;
  ab.block_tables = block_tables_.upload(b.block_tables);
  ab.max_blocks_per_seq = b.max_blocks_per_seq;
  ab.slot_mapping = slot_mapping_.upload(b.slot_mapping);
  ab.host_query_start = b.query_start.data();
  ab.host_positions = b.positions.data();
  ab.id = next_batch_id();
  return s;
}

void ModelRunner::issue(const Step& s, KvStorage& kv) {
  const ModelConfig& c = model_.config();
  Backend& be = be_;
  const int64_t n = s.n;
  const int64_t H = c.hidden_size, HD = c.head_dim, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * HD, kv_dim = c.num_kv_heads * HD;
  float *x = s.x, *h = s.h, *q = s.q, *k = s.k, *v = s.v, *attn = s.attn, *gate = s.gate,
        *up = s.up;
  const RopeParams rope{HD, c.rope_theta, c.rope_interleaved, f32(inv_freq_)};
  const float scale = 1.0f / std::sqrt(static_cast<float>(HD));

  be.embedding(embed_, s.tokens, n, x);
  // fold: the backend folds each norm into the products after it and each residual add into
  // the product before it; otherwise h holds the normed residual stream between the ops.
  const bool fold = c.num_layers > 0 && be.folds_norms(n, layers_[0].wq);
  const float eps = c.rms_norm_eps;
  if (c.num_layers > 0 && !fold) be.rms_norm(x, n, H, f32(layers_[0].attn_norm), eps, h);
  for (int64_t li = 0; li < c.num_layers; ++li) {
    const Layer& L = layers_[li];
    const KvLayerView cache = kv.layer(li);
    const Backend::Product qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};
    if (fold)
      be.matmul_many_normed(x, n, f32(L.attn_norm), eps, h, qkv, 3);
    else
      be.matmul_many(h, n, qkv, 3);
    if (c.attention_bias) {
      be.add_bias(q, n, q_dim, f32(L.q_bias));
      be.add_bias(k, n, kv_dim, f32(L.k_bias));
      be.add_bias(v, n, kv_dim, f32(L.v_bias));
    }
    QkvInputs in;
    in.q = q, in.k = k, in.v = v;
    in.n = n, in.num_heads = c.num_heads, in.num_kv_heads = c.num_kv_heads, in.head_dim = HD;
    if (c.qk_norm) in.q_norm = f32(L.q_norm), in.k_norm = f32(L.k_norm);
    in.eps = eps;
    in.positions = s.positions;
    in.rope = rope;
    in.slot_mapping = s.ab.slot_mapping;
    be.prepare_qkv(in, cache);
    be.paged_attention(q, c.num_heads, cache, s.ab, scale, attn);
    const Backend::Product gate_up[] = {{&L.w_gate, gate}, {&L.w_up, up}};
    if (fold) {
      be.matmul_add(attn, n, L.wo, x, h);
      be.matmul_many_normed(x, n, f32(L.ffn_norm), eps, h, gate_up, 2);
      be.matmul_add_gated(gate, up, n, L.w_down, x, h);
      continue;
    }
    be.matmul(attn, n, L.wo, h);
    be.add_rms_norm(x, h, n, H, f32(L.ffn_norm), eps, h);
    be.matmul_many(h, n, gate_up, 2);
    be.silu_mul(gate, up, n * I, gate);
    be.matmul(gate, n, L.w_down, h);
    if (li + 1 < c.num_layers)  // the residual add and the next layer's norm
      be.add_rms_norm(x, h, n, H, f32(layers_[li + 1].attn_norm), eps, h);
    else
      be.add(x, h, n * H);
  }
  finish(s);
}

// Only the requested rows go through the final norm and the vocabulary projection.
void ModelRunner::finish(const Step& s) {
  const ModelConfig& c = model_.config();
  const int64_t H = c.hidden_size;
  be_.gather_rows(s.x, s.rows, s.m, H, s.last);
  if (be_.folds_norms(s.m, lm_head_)) {  // s.last is scratch for the plain path
    const Backend::Product logits{&lm_head_, s.logits};
    return be_.matmul_many_normed(s.last, s.m, f32(final_norm_), c.rms_norm_eps, s.last, &logits,
                                  1);
  }
  be_.rms_norm(s.last, s.m, H, f32(final_norm_), c.rms_norm_eps, s.last);
  be_.matmul(s.last, s.m, lm_head_, s.logits);
}

void ModelRunner::run(const ForwardBatch& b, KvStorage& kv) {
  if (recordable(b)) return run_recorded(b, kv);
  const Step s = prepare(b);
  issue(s, kv);
  out_logits_ = s.logits;
  out_rows_ = s.m;
}

const float* ModelRunner::host_logits() {
  if (be_.host_resident()) return out_logits_;
  const size_t count = static_cast<size_t>(out_rows_ * model_.config().vocab_size);
  if (count > host_capacity_) {
    be_.release_host(host_logits_);
    host_capacity_ = std::max(count, 2 * host_capacity_);
    host_logits_ = static_cast<float*>(be_.alloc_host(host_capacity_ * sizeof(float)));
  }
  be_.to_host(host_logits_, out_logits_, count * sizeof(float));
  return host_logits_;
}

void ModelRunner::greedy(int32_t* picks) {
  int32_t* dev = argmax_.reserve(out_rows_);
  be_.argmax_rows(out_logits_, out_rows_, model_.config().vocab_size, dev);
  if (dev != picks) be_.to_host(picks, dev, sizeof(int32_t) * out_rows_);
}

void ModelRunner::sample(std::span<const RowSampling> rows, RowSampled* out) {
  be_.sample_rows(out_logits_, model_.config().vocab_size, rows, out);
}

bool ModelRunner::recordable(const ForwardBatch& b) const {
  const size_t n = b.tokens.size();
  if (be_.host_resident() || !be_.can_record() || n == 0 || n > kMaxRecordedTokens) return false;
  if (b.query_start.size() != n + 1 || b.logit_rows.size() != n) return false;
  for (size_t i = 0; i < n; ++i)  // decodes only: one token per sequence, each sampled
    if (b.query_start[i] != static_cast<int32_t>(i) || b.logit_rows[i] != static_cast<int32_t>(i))
      return false;
  return true;
}

// The batch is padded to a power of two of sequences (extra decodes of token 0 at position 0,
// reading the null block 0, writing no cache slot) and a power of two of block-table entries, so a few recordings
// serve every decode step. Attention is sized for the padded table (contexts up to its
// capacity): its kernels read each sequence's true context from the positions on the device.
void ModelRunner::run_recorded(const ForwardBatch& b, KvStorage& kv) {
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  int64_t np = 1, width = 8;
  while (np < n) np *= 2;
  while (width < b.max_blocks_per_seq) width *= 2;
  ForwardBatch p;
  p.tokens = b.tokens;
  p.positions = b.positions;
  p.slot_mapping = b.slot_mapping;
  p.tokens.resize(np, 0);
  p.positions.resize(np, 0);
  p.slot_mapping.resize(np, -1);  // padding: no cache write
  p.max_blocks_per_seq = width;
  p.block_tables.assign(np * width, 0);
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(b.block_tables.begin() + i * b.max_blocks_per_seq, b.max_blocks_per_seq,
                p.block_tables.begin() + i * width);
  for (int32_t i = 0; i <= np; ++i) p.query_start.push_back(i);
  for (int32_t i = 0; i < np; ++i) p.logit_rows.push_back(i);

  Step s = prepare(p);
  s.ab.max_context = width * kv.block_size();
  s.ab.host_query_start = s.ab.host_positions = nullptr;  // no host planning inside a recording
  s.ab.id = 0;
  const std::vector<const void*> buffers = {
      &kv,     s.x,        s.h,    s.q,      s.k,    s.v,        s.attn,
      s.gate,  s.up,       s.last, s.logits, s.tokens, s.positions, s.rows,
      s.ab.query_start, s.ab.block_tables, s.ab.slot_mapping};
  Replay& r = replays_[{np, width}];
  if (r.recording && r.buffers == buffers) {
    r.recording->replay();
  } else if (!r.failed && r.buffers == buffers) {
    // Seen once with these buffers (so nothing grows now): record, then replay.
    be_.begin_recording();
    issue(s, kv);
    r.recording = be_.end_recording();
    if (r.recording) {
      r.recording->replay();
    } else {
      r.failed = true;
      issue(s, kv);
    }
  } else {
    r.recording.reset();
    r.buffers = buffers;
    issue(s, kv);
  }
  out_logits_ = s.logits;  // the first n rows are the batch's
  out_rows_ = n;
}

void ModelRunner::warm_up(KvStorage& kv, int32_t max_tokens) {
  std::vector<int32_t> sizes = {1, 32};
  if (max_tokens > 32) sizes.push_back(max_tokens);  // the large-batch products and buffers
  for (int32_t n : sizes) {
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
    run(b, kv);
    host_logits();  // waits for the step (and sets up the copy)
  }
}

}  // namespace sluice
