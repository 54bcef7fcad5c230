// Buffers, weight placement and recorded decode steps around an architecture's forward pass
// over one flattened batch (prefill chunks and decodes mixed).
#include "model/model_runner.h"

#include <algorithm>
#include <atomic>

#include "model/arch/arch_spec.h"

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

// An M-RoPE model's rope positions [4, n]: the batch's, or for text alone `positions` in
// every plane.
std::vector<int32_t> mrope_planes(const ForwardBatch& b) {
  const size_t n = b.positions.size();
  if (!b.rope_positions.empty()) {
    SLUICE_ASSERT(b.rope_positions.size() == 4 * n, "four rope positions per token");
    return b.rope_positions;
  }
  std::vector<int32_t> planes;
  planes.reserve(4 * n);
  for (int plane = 0; plane < 4; ++plane)
    planes.insert(planes.end(), b.positions.begin(), b.positions.end());
  return planes;
}
}  // namespace

namespace {
// A quantized router in float32: its few rows decide which experts run, and rounding the
// activations for a quantized product could flip a near-tie ([experts, hidden], dequantized once).
Weight float_router(const Weight& w) {
  if (!is_quantized(w.dtype)) return w;
  std::vector<uint8_t> bytes(static_cast<size_t>(w.rows * w.cols) * sizeof(float));
  for (int64_t r = 0; r < w.rows; ++r)
    dequantize_row(w, r, reinterpret_cast<float*>(bytes.data()) + r * w.cols);
  return Weight::from_owned(DType::F32, w.rows, w.cols, std::move(bytes));
}
}  // namespace

Weight ModelRunner::place_vector(const std::vector<float>& v) {
  if (v.empty()) return Weight{};
  return be_.place(Weight::from_mapped(DType::F32, 1, static_cast<int64_t>(v.size()),
                                       reinterpret_cast<const uint8_t*>(v.data())));
}

ModelRunner::ModelRunner(const Model& model, Backend& be)
    : model_(model),
      be_(be),
      x_(be),
      h_(be),
      q_(be),
      k_(be),
      v_(be),
      attn_(be),
      gate_(be),
      up_(be),
      last_(be),
      logits_(be),
      hidden_(be),
      tokens_(be),
      positions_(be),
      query_start_(be),
      block_tables_(be),
      slot_mapping_(be),
      rows_(be),
      rope_positions_(be),
      attend_until_(be),
      argmax_(be),
      router_(be),
      expert_w_(be),
      exp_gate_(be),
      exp_up_(be),
      exp_out_(be),
      moe_out_(be),
      exp_bias_(be),
      expert_ids_(be),
      attn_gate_(be),
      lin_qkv_(be),
      lin_conv_(be),
      lin_z_(be),
      lin_b_(be),
      lin_a_(be),
      lin_core_(be),
      state_slots_(be),
      state_fresh_(be),
      deepstack_(be) {
  SLUICE_ASSERT(model.config().arch && model.config().arch->forward,
                "architecture without a forward");
  forward_ = model.config().arch->forward;
  w_.embed = be.place(model.embed_);
  // Tied embeddings share one placed copy.
  w_.lm_head = model.lm_head_.data == model.embed_.data ? w_.embed : be.place(model.lm_head_);
  w_.final_norm = place_vector(model.final_norm_);
  w_.inv_freq = place_vector(model.inv_freq_);
  w_.inv_freq_local = place_vector(model.inv_freq_local_);
  for (const LayerWeights& L : model.layers_) {
    PlacedLayer& N = w_.layers.emplace_back();
    N.attn_norm = place_vector(L.attn_norm), N.ffn_norm = place_vector(L.ffn_norm);
    N.q_norm = place_vector(L.q_norm), N.k_norm = place_vector(L.k_norm);
    N.q_bias = place_vector(L.q_bias), N.k_bias = place_vector(L.k_bias);
    N.v_bias = place_vector(L.v_bias);
    N.wq = be.place(L.wq), N.wk = be.place(L.wk), N.wv = be.place(L.wv), N.wo = be.place(L.wo);
    N.w_gate = be.place(L.w_gate), N.w_up = be.place(L.w_up), N.w_down = be.place(L.w_down);
    w_.layers.back().post_attn_norm = place_vector(L.post_attn_norm);
    w_.layers.back().post_ffn_norm = place_vector(L.post_ffn_norm);
    if (model.config().num_experts > 0) {
      PlacedLayer& P = w_.layers.back();
      P.router = be.place(float_router(L.w_router));
      P.gate_exps = be_.place_experts(L.w_gate_exps, model.config().num_experts);
      P.up_exps = be_.place_experts(L.w_up_exps, model.config().num_experts);
      P.down_exps = be_.place_experts(L.w_down_exps, model.config().num_experts);
      P.router_bias = place_vector(L.router_bias);
      P.gate_exps_bias = place_vector(L.gate_exps_bias);
      P.up_exps_bias = place_vector(L.up_exps_bias);
      P.down_exps_bias = place_vector(L.down_exps_bias);
    }
    if (model.config().num_experts > 0) {
      const PlacedLayer& P = w_.layers.back();
      for (const std::vector<Weight>* e : {&P.gate_exps, &P.up_exps, &P.down_exps})
        experts_on_device_ = experts_on_device_ && be.experts_on_device(e->front());
    }
    w_.layers.back().o_bias = place_vector(L.o_bias);
    w_.layers.back().sinks = place_vector(L.sinks);
    if (model.config().hybrid()) place_hybrid(L, w_.layers.back());
  }
}

void ModelRunner::place_hybrid(const LayerWeights& L, PlacedLayer& P) {
  auto place = [&](const Weight& w) { return w.data ? be_.place(w) : Weight{}; };
  P.wq_gate = place(L.wq_gate);
  P.lin_qkv = place(L.lin_qkv), P.lin_z = place(L.lin_z);
  P.lin_b = place(L.lin_b), P.lin_a = place(L.lin_a), P.lin_out = place(L.lin_out);
  P.lin_conv = place_vector(L.lin_conv), P.lin_a_neg = place_vector(L.lin_a_neg);
  P.lin_dt_bias = place_vector(L.lin_dt_bias), P.lin_norm = place_vector(L.lin_norm);
  P.w_gate_shexp = place(L.w_gate_shexp), P.w_up_shexp = place(L.w_up_shexp);
  P.w_down_shexp = place(L.w_down_shexp), P.w_shexp_gate = place(L.w_shexp_gate);
}

ModelRunner::~ModelRunner() {
  if (host_logits_) be_.release_host(host_logits_);
}

StepBuffers ModelRunner::prepare(const ForwardBatch& b) {
  const ModelConfig& c = model_.config();
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  const int64_t m = static_cast<int64_t>(b.logit_rows.size());
  const int64_t H = c.hidden_size, HD = c.head_dim, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * HD, kv_dim = c.num_kv_heads * HD;
  StepBuffers s;
  s.n = n;
  s.m = m;
  s.x = x_.reserve(n * H);            // [n, hidden] residual stream
  s.h = h_.reserve(n * H);            // [n, hidden] normed
  s.q = q_.reserve(n * q_dim);        // [n, heads, hd]
  s.k = k_.reserve(n * kv_dim);       // [n, kv_heads, hd]
  s.v = v_.reserve(n * kv_dim);       // [n, kv_heads, hd]
  s.attn = attn_.reserve(n * q_dim);  // [n, heads, hd]
  const int64_t inter = std::max(I, c.shared_expert_intermediate_size);
  s.gate = gate_.reserve(n * inter);  // [n, inter]
  s.up = up_.reserve(n * inter);      // [n, inter]
  if (c.num_experts > 0) {
    const int64_t E = c.num_experts, K = c.num_experts_used, EI = c.expert_intermediate_size;
    s.router = router_.reserve(n * E);           // [n, experts]
    s.expert_ids = expert_ids_.reserve(n * K);   // [n, k]
    s.expert_w = expert_w_.reserve(n * K);       // [n, k]
    s.exp_gate = exp_gate_.reserve(n * K * EI);  // [n * k, expert_inter]
    s.exp_up = exp_up_.reserve(n * K * EI);      // [n * k, expert_inter]
    s.exp_out = exp_out_.reserve(n * K * H);     // [n * k, hidden]
    s.moe_out = moe_out_.reserve(n * H);         // [n, hidden]
    if (c.attention_sinks)                       // gpt-oss's expert biases, gathered per slot
      s.exp_bias = exp_bias_.reserve(n * K * std::max(EI, H));
  }
  s.last = last_.reserve(m * H);  // [m, hidden]
  s.logits = logits_.reserve(m * c.vocab_size);

  // The step's small arrays go up together (one launch on the CUDA backend).
  std::vector<HostUpload> uploads;
  s.tokens = tokens_.stage(b.tokens, uploads);
  s.positions = positions_.stage(b.positions, uploads);
  if (c.mrope()) s.rope_positions = rope_positions_.stage(rope_host_ = mrope_planes(b), uploads);
  s.rows = rows_.stage(b.logit_rows, uploads);
  AttentionBatch& ab = s.ab;
  ab.num_seqs = static_cast<int64_t>(b.query_start.size()) - 1;
  ab.num_tokens = n;
  // Attention masks by attend_until where image tokens see their whole image, else causally.
  const std::vector<int32_t>& masked = b.attend_until.empty() ? b.positions : b.attend_until;
  SLUICE_ASSERT(masked.size() == b.positions.size(), "attend_until covers every token");
  for (int32_t p : masked) ab.max_context = std::max<int64_t>(ab.max_context, p + 1);
  ab.query_start = query_start_.stage(b.query_start, uploads);
  ab.positions =
      b.attend_until.empty() ? s.positions : attend_until_.stage(b.attend_until, uploads);
  const int64_t groups = b.num_kv_groups, table = ab.num_seqs * b.max_blocks_per_seq;
  SLUICE_ASSERT(static_cast<int64_t>(b.block_tables.size()) == groups * table &&
                    static_cast<int64_t>(b.slot_mapping.size()) == groups * n,
                "a block table and a slot mapping per KV cache group");
  ab.block_tables = block_tables_.stage(b.block_tables, uploads);  // [groups, seqs, max_blocks]
  ab.max_blocks_per_seq = b.max_blocks_per_seq;
  ab.slot_mapping = slot_mapping_.stage(b.slot_mapping, uploads);  // [groups, n]
  ab.host_query_start = b.query_start.data();
  ab.host_positions = masked.data();
  s.splices = b.splices;
  split_deepstack(b, s);
  ab.id = next_batch_id();  // one plan for every group: it depends on the positions only
  for (int64_t g = 0; g < groups && groups > 1; ++g) {
    s.group_ab.push_back(ab);
    s.group_ab.back().block_tables += g * table;
    s.group_ab.back().slot_mapping += g * n;
  }
  if (c.hybrid()) prepare_hybrid(b, s, uploads);
  be_.to_device_many(uploads);
  return s;
}

void ModelRunner::split_deepstack(const ForwardBatch& b, StepBuffers& s) {
  const ModelConfig& c = model_.config();
  const int64_t H = c.hidden_size, D = c.num_deepstack_layers, W = c.image_embedding_width();
  for (const EmbeddingSplice& sp : b.splices)
    SLUICE_ASSERT((sp.width == 0 ? H : sp.width) == W,
                  "image rows of the model's width (hidden * (1 + deepstack layers))");
  if (D == 0 || b.splices.empty()) return;
  int64_t R = 0;
  for (const EmbeddingSplice& sp : b.splices) R += sp.count;
  splice_rows_.resize(R * H);
  std::vector<float> slices(D * R * H);  // [D, R, hidden]
  narrow_splices_.clear();
  int64_t at = 0;
  for (const EmbeddingSplice& sp : b.splices) {
    narrow_splices_.push_back({sp.row, sp.count, splice_rows_.data() + at * H, H});
    for (int64_t r = 0; r < sp.count; ++r, ++at) {
      const float* src = sp.src + r * W;  // [1 + D, hidden]
      std::copy_n(src, H, splice_rows_.data() + at * H);
      for (int64_t k = 0; k < D; ++k) std::copy_n(src + (k + 1) * H, H, &slices[(k * R + at) * H]);
    }
  }
  s.splices = narrow_splices_;
  s.deepstack = deepstack_.upload(slices);
  s.deepstack_rows = R;
}

void ModelRunner::prepare_hybrid(const ForwardBatch& b, StepBuffers& s,
                                 std::vector<HostUpload>& uploads) {
  const ModelConfig& c = model_.config();
  const int64_t n = s.n, Hv = c.linear_num_v_heads, vdim = Hv * c.linear_head_v_dim;
  const int64_t C = 2 * c.linear_num_k_heads * c.linear_head_k_dim + vdim;
  if (c.attention_output_gate) s.attn_gate = attn_gate_.reserve(n * c.num_heads * c.head_dim);
  s.lin_qkv = lin_qkv_.reserve(n * C);       // [n, C]
  s.lin_conv = lin_conv_.reserve(n * C);     // [n, C]
  s.lin_z = lin_z_.reserve(n * vdim);        // [n, Hv*dv]
  s.lin_b = lin_b_.reserve(n * Hv);          // [n, Hv]
  s.lin_a = lin_a_.reserve(n * Hv);          // [n, Hv]
  s.lin_core = lin_core_.reserve(n * vdim);  // [n, Hv*dv]
  const int64_t num_seqs = static_cast<int64_t>(b.query_start.size()) - 1;
  SLUICE_ASSERT(static_cast<int64_t>(b.state_slots.size()) == num_seqs &&
                    static_cast<int64_t>(b.state_fresh.size()) == num_seqs,
                "a hybrid model's batch names each sequence's state slot");
  s.rb.num_seqs = num_seqs;
  s.rb.num_tokens = n;
  s.rb.query_start = s.ab.query_start;
  s.rb.host_query_start = b.query_start.data();
  s.rb.state_slots = state_slots_.stage(b.state_slots, uploads);
  s.rb.fresh = state_fresh_.stage(b.state_fresh, uploads);
}

void ModelRunner::issue(const StepBuffers& s, KvStorage& kv) {
  forward_(ForwardContext{be_, model_.config(), w_, s, kv});
}

void ModelRunner::run(const ForwardBatch& b, KvStorage& kv) {
  if (recordable(b)) return run_recorded(b, kv);
  const StepBuffers s = prepare(b);
  issue(s, kv);
  out_logits_ = s.logits;
  out_rows_ = s.m;
  out_x_ = s.x;
  out_row_ids_ = s.rows;
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
  // Expert ops that read the routing on the host (backend/moe_ops.cc) cannot be recorded.
  if (model_.config().num_experts > 0 && !experts_on_device_) return false;
  if (b.query_start.size() != n + 1 || b.logit_rows.size() != n) return false;
  if (!b.splices.empty() || !b.attend_until.empty()) return false;
  for (size_t i = 0; i < n; ++i)  // decodes only: one token per sequence, each sampled
    if (b.query_start[i] != static_cast<int32_t>(i) || b.logit_rows[i] != static_cast<int32_t>(i))
      return false;
  return true;
}

// The batch is padded to a power of two of sequences (extra decodes of token 0 at position 0,
// reading the null block 0, writing no cache slot) and a power of two of block-table entries, so a
// few recordings serve every decode step. Attention is sized for the padded table (contexts up to
// its capacity): its kernels read each sequence's true context from the positions on the device.
void ModelRunner::run_recorded(const ForwardBatch& b, KvStorage& kv) {
  const int64_t n = static_cast<int64_t>(b.tokens.size()), groups = b.num_kv_groups;
  int64_t np = 1, width = 8;
  while (np < n) np *= 2;
  while (width < b.max_blocks_per_seq) width *= 2;
  ForwardBatch p;
  p.tokens = b.tokens;
  p.positions = b.positions;
  p.tokens.resize(np, 0);
  p.positions.resize(np, 0);
  if (!b.rope_positions.empty()) {  // each plane padded with position 0
    p.rope_positions.assign(4 * np, 0);
    for (int64_t plane = 0; plane < 4; ++plane)
      std::copy_n(b.rope_positions.begin() + plane * n, n, p.rope_positions.begin() + plane * np);
  }
  p.num_kv_groups = groups;
  p.slot_mapping.assign(groups * np, -1);  // padding: no cache write
  p.max_blocks_per_seq = width;
  p.block_tables.assign(groups * np * width, 0);
  for (int64_t g = 0; g < groups; ++g) {
    std::copy_n(b.slot_mapping.begin() + g * n, n, p.slot_mapping.begin() + g * np);
    for (int64_t i = 0; i < n; ++i)
      std::copy_n(b.block_tables.begin() + (g * n + i) * b.max_blocks_per_seq, b.max_blocks_per_seq,
                  p.block_tables.begin() + (g * np + i) * width);
  }
  for (int32_t i = 0; i <= np; ++i) p.query_start.push_back(i);
  for (int32_t i = 0; i < np; ++i) p.logit_rows.push_back(i);
  if (model_.config().hybrid()) {  // padding rows start fresh in the scratch slot
    p.state_slots = b.state_slots, p.state_fresh = b.state_fresh;
    p.state_slots.resize(np, kv.state()->scratch_slot());
    p.state_fresh.resize(np, 1);
  }

  StepBuffers s = prepare(p);
  auto unplanned = [&](AttentionBatch& ab) {
    ab.max_context = width * kv.block_size();
    ab.host_query_start = ab.host_positions = nullptr;  // no host planning inside a recording
    ab.id = 0;
  };
  unplanned(s.ab);
  for (AttentionBatch& ab : s.group_ab) unplanned(ab);
  const std::vector<const void*> buffers = {&kv,
                                            s.x,
                                            s.h,
                                            s.q,
                                            s.k,
                                            s.v,
                                            s.attn,
                                            s.gate,
                                            s.up,
                                            s.last,
                                            s.logits,
                                            s.tokens,
                                            s.positions,
                                            s.rope_positions,
                                            s.rows,
                                            s.ab.query_start,
                                            s.ab.block_tables,
                                            s.ab.slot_mapping,
                                            s.router,
                                            s.expert_ids,
                                            s.expert_w,
                                            s.exp_gate,
                                            s.exp_up,
                                            s.exp_out,
                                            s.moe_out,
                                            s.exp_bias,
                                            s.attn_gate,
                                            s.lin_qkv,
                                            s.lin_conv,
                                            s.lin_z,
                                            s.lin_b,
                                            s.lin_a,
                                            s.lin_core,
                                            s.rb.state_slots,
                                            s.rb.fresh};
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
  out_x_ = s.x;
  out_row_ids_ = s.rows;
}

void ModelRunner::final_hidden(float* out) {
  const ModelConfig& c = model_.config();
  const int64_t H = c.hidden_size;
  float* h = hidden_.reserve(out_rows_ * H);  // [rows, hidden]
  be_.gather_rows(out_x_, out_row_ids_, out_rows_, H, h);
  be_.rms_norm(h, out_rows_, H, f32(w_.final_norm), c.rms_norm_eps, h);
  if (h != out) be_.to_host(out, h, sizeof(float) * out_rows_ * H);
}

void ModelRunner::warm_up(KvStorage& kv, int32_t max_tokens) {
  std::vector<int32_t> sizes = {1, 32};
  if (max_tokens > 32) sizes.push_back(max_tokens);  // the large-batch products and buffers
  for (int32_t n : sizes) {
    ForwardBatch b;
    b.tokens.assign(n, 0);
    b.query_start = {0, n};
    b.max_blocks_per_seq = (n + kv.block_size() - 1) / kv.block_size();
    b.num_kv_groups = kv.layout().num_groups();
    b.block_tables.assign(b.num_kv_groups * b.max_blocks_per_seq, 0);
    for (int32_t p = 0; p < n; ++p) b.positions.push_back(p);
    for (int64_t g = 0; g < b.num_kv_groups; ++g)
      for (int32_t p = 0; p < n; ++p)
        b.slot_mapping.push_back(static_cast<int32_t>(p % kv.block_size()));
    b.logit_rows = {n - 1};
    if (kv.state()) b.state_slots = {kv.state()->scratch_slot()}, b.state_fresh = {1};
    run(b, kv);
    host_logits();  // waits for the step (and sets up the copy)
  }
}

}  // namespace sluice
