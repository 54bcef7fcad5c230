#pragma once
// The Backend seam: a small set of fused ops the model is written against. Pointers are
// backend-resident buffers (host memory for the CPU backend, device memory for CUDA), made with
// alloc() / place(). A backend never sees a request.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/row_sampling.h"
#include "backend/weight.h"
#include "common/assert.h"
#include "common/status.h"

namespace sluice {

struct RopeParams {
  int64_t rotary_dim = 0;  // leading dims of each head that rotate (== head_dim usually)
  float theta = 10000.0f;
  bool interleaved =
      false;  // true: rotate pairs (2i, 2i+1) (GGUF llama); false: (i, i+d/2) (NeoX/HF)
  const float* inv_freq = nullptr;  // [rotary_dim/2] precomputed (includes llama3 scaling)
  // M-RoPE (Qwen2-VL): with any section > 0, positions hold 4 planes [4, n] (t, h, w, e; token t's
  // plane p at positions[p * n + t]) and pair i turns by the plane of its section: the first
  // sections[0] of i % sum(sections) take t, the next sections[1] h, then w, then e. All zero:
  // one position per token, positions[n].
  int32_t sections[4] = {0, 0, 0, 0};
  // Interleaved M-RoPE (Qwen3-VL, llama.cpp's IMROPE): pair s = i % sum(sections) takes h when
  // s % 3 == 1 and s < 3 * sections[1], w when s % 3 == 2 and s < 3 * sections[2], t when
  // s % 3 == 0 and s < 3 * sections[0], else e.
  bool interleaved_sections = false;
  bool multi() const { return sections[0] + sections[1] + sections[2] + sections[3] > 0; }
  // The plane pair i reads (0 when not multi()).
  int64_t plane_of(int64_t i) const {
    if (!multi()) return 0;
    int64_t s = i % (sections[0] + sections[1] + sections[2] + sections[3]), p = 0;
    if (interleaved_sections) {
      for (p = 1; p < 3; ++p)
        if (s % 3 == p && s < 3 * sections[p]) return p;
      return s % 3 == 0 && s < 3 * sections[0] ? 0 : 3;
    }
    while (p < 3 && s >= sections[p]) s -= sections[p++];
    return p;
  }
};

// Element type of the paged KV cache; each backend picks its own (Backend::kv_dtype).
enum class KvDtype { F32, F16 };
inline int64_t kv_dtype_bytes(KvDtype t) {
  return t == KvDtype::F16 ? 2 : 4;
}

// One layer's paged KV cache: K and V are each [num_blocks, block_size, num_kv_heads, head_dim]
// of `dtype` (f32: float, f16: IEEE half bit patterns).
struct KvLayerView {
  void* k = nullptr;
  void* v = nullptr;
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  KvDtype dtype = KvDtype::F32;
  // > 0: sliding-window attention: a token at position p attends to positions
  // (p - window, p] only (Gemma 3's local layers); 0: every position up to p.
  int64_t window = 0;
  // Non-null: one learned logit per query head [num_heads] that joins every softmax's
  // denominator (attention sinks: exp(sink - max) added; gpt-oss). Backend memory.
  const float* sinks = nullptr;
  // The KV cache group whose block table and slot mapping this layer uses (the model's
  // StepBuffers::attention picks its AttentionBatch); backends never read it.
  int32_t group = 0;
  float* k_f32() const { return f32(k); }
  float* v_f32() const { return f32(v); }
  uint16_t* k_f16() const { return f16(k); }
  uint16_t* v_f16() const { return f16(v); }

 private:
  float* f32(void* p) const {
    SLUICE_ASSERT(dtype == KvDtype::F32, "this KV cache is not f32");
    return static_cast<float*>(p);
  }
  uint16_t* f16(void* p) const {
    SLUICE_ASSERT(dtype == KvDtype::F16, "this KV cache is not f16");
    return static_cast<uint16_t*>(p);
  }
};

// A flattened batch of sequences for attention. Tokens of sequence s are
// [query_start[s], query_start[s+1]); token t sits at position positions[t] and attends to
// KV positions 0..positions[t] of its sequence, read through that sequence's block table.
struct AttentionBatch {
  int64_t num_seqs = 0;
  int64_t num_tokens = 0;                 // == query_start[num_seqs] (host copy)
  int64_t max_context = 0;                // max over tokens of positions[t] + 1 (host copy)
  const int32_t* query_start = nullptr;   // [num_seqs + 1]
  const int32_t* positions = nullptr;     // [num_tokens]
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq]
  int64_t max_blocks_per_seq = 0;
  const int32_t* slot_mapping = nullptr;  // [num_tokens]: block_id * block_size + offset
  // Host copies of query_start and positions (optional): device backends plan kernels with them.
  const int32_t* host_query_start = nullptr;
  const int32_t* host_positions = nullptr;
  // Nonzero: calls with the same id see the same batch (every layer of one forward), so a plan
  // made for it is reused. 0: unknown, planned again on every call.
  uint64_t id = 0;
};

// A flattened batch of whole sequences with no KV cache (encoders): sequence s is rows
// [query_start[s], query_start[s+1]) of every activation, and attends to all of its own rows.
struct SequenceBatch {
  int64_t num_seqs = 0;
  int64_t num_tokens = 0;                     // == query_start[num_seqs] (host copy)
  int64_t max_len = 0;                        // the longest sequence (host copy)
  const int32_t* query_start = nullptr;       // [num_seqs + 1] backend memory
  const int32_t* host_query_start = nullptr;  // [num_seqs + 1] host copy
};

// A flattened batch for recurrent layers (gated delta-net): sequence s is rows
// [query_start[s], query_start[s+1]) and carries its state in slot state_slots[s] of every
// recurrent layer's state tensors; fresh[s] != 0: it starts from a zero state (its first row is
// position 0) and the slot's old contents are ignored.
struct RecurrentBatch {
  int64_t num_seqs = 0;
  int64_t num_tokens = 0;                     // == query_start[num_seqs] (host copy)
  const int32_t* query_start = nullptr;       // [num_seqs + 1] backend memory
  const int32_t* host_query_start = nullptr;  // [num_seqs + 1] host copy
  const int32_t* state_slots = nullptr;       // [num_seqs] backend memory
  const int32_t* fresh = nullptr;             // [num_seqs] backend memory
};

// Shapes of a gated delta-net layer (Qwen3-Next, Qwen3.5). Value head h reads key head
// h % num_k_heads when heads_tiled (llama.cpp's qwen35 GGUF order), else h / (Hv / Hk)
// (Hugging Face order, and llama.cpp's qwen3next).
struct DeltaNetShape {
  int64_t num_k_heads = 0, num_v_heads = 0;  // Hk, Hv (Hv a multiple of Hk)
  int64_t head_k_dim = 0, head_v_dim = 0;    // dk, dv
  bool heads_tiled = false;
  float eps = 1e-6f;  // of the q/k L2 norms
  int64_t qkv_dim() const { return 2 * num_k_heads * head_k_dim + num_v_heads * head_v_dim; }
  int64_t state_floats() const { return num_v_heads * head_k_dim * head_v_dim; }
};

// How a sequence's rows become one vector (sentence-transformers' pooling modes).
enum class Pooling { kMean, kCls, kLast };

// The attention inputs of a flattened batch, transformed in place: q [n, num_heads, head_dim]
// and k [n, num_kv_heads, head_dim] get a per-head RMSNorm (when q_norm / k_norm are set,
// [head_dim]) and RoPE at positions ([n], or [4, n] for M-RoPE: RopeParams::sections); then k and v
// [n, num_kv_heads, head_dim] are written to the KV cache at slot_mapping[n] (a slot < 0 is not
// written).
struct QkvInputs {
  float* q = nullptr;
  float* k = nullptr;
  const float* v = nullptr;
  int64_t n = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  float eps = 0.0f;
  const int32_t* positions = nullptr;
  RopeParams rope;
  const int32_t* slot_mapping = nullptr;
};

// One host -> backend copy of Backend::to_device_many; src stays valid until the call returns.
struct HostUpload {
  void* dst = nullptr;
  const void* src = nullptr;
  size_t bytes = 0;
};

// A recorded sequence of ops (a CUDA graph on the CUDA backend): replay() issues them again,
// on the same buffers and with the same sizes, at a fraction of the launch cost.
class Recording {
 public:
  virtual ~Recording() = default;
  virtual void replay() = 0;
};

// How a mixture-of-experts router turns logits into each token's k experts and their weights.
//   kSoftmaxTopK (Qwen3 MoE): p = softmax(logits over all experts); the k largest p (divided by
//                their sum when renormalized);
//   kTopKSoftmax (gpt-oss):   the k largest logits; softmax over those k.
// Ties go to the lower expert id; NaN ranks below every number.
enum class MoeRouting { kSoftmaxTopK, kTopKSoftmax };

// A gated unit's activation from gate g and up u: silu(g) * u, or when limit > 0 the clamped
// SwiGLU of gpt-oss (Backend::swiglu_clamped).
struct Glu {
  float alpha = 0.0f;
  float limit = 0.0f;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // True when every op's result for a row is independent of the other rows in the call and of
  // how the rows were split (what the engine's --deterministic mode requires).
  virtual bool batch_invariant() const = 0;
  // Asks for batch-invariant kernels (slower on some backends); false when there are none.
  virtual bool set_batch_invariant(bool on) { return !on || batch_invariant(); }

  // Memory. The defaults are host memory (CPU backends); a device backend overrides all of them.
  virtual bool host_resident() const { return true; }
  virtual void* alloc(size_t bytes);  // zeroed; never null (aborts when out of memory)
  virtual void release(void* p);
  virtual void to_device(void* dst, const void* src, size_t bytes);  // host -> backend
  // Several host -> backend copies at once (a step's inputs: one launch on the CUDA backend).
  virtual void to_device_many(std::span<const HostUpload> uploads);
  virtual void to_host(void* dst, const void* src, size_t bytes);  // backend -> host (waits)
  virtual void copy(void* dst, const void* src, size_t bytes);     // backend -> backend
  // Host memory that to_host fills fastest (page-locked on GPU backends).
  virtual void* alloc_host(size_t bytes) { return alloc(bytes); }
  virtual void release_host(void* p) { release(p); }
  // A weight whose data the ops can read: the same weight on host backends, a device copy
  // (kept alive by the returned Weight) on device backends, possibly in a layout of the
  // backend's own (the CUDA backend splits quantized blocks into planes) that only it reads.
  virtual Weight place(const Weight& w) { return w; }
  // The KV cache's element type: f32 on host backends; device backends store f16 (half the
  // bytes per decode step and twice the tokens in the same memory).
  virtual KvDtype kv_dtype() const { return KvDtype::F32; }
  // Picks the KV cache's element type before any cache is made; false when this backend has no
  // kernels for it.
  virtual bool set_kv_dtype(KvDtype t) { return t == kv_dtype(); }
  // Bytes of device memory free right now (host backends: 0 = not limited by the backend).
  virtual size_t free_memory() const { return 0; }
  virtual size_t total_memory() const { return 0; }

  // Recording (device backends): the ops issued between begin_recording() and end_recording()
  // are kept, not run. Allowed only when no buffer must grow meanwhile (run the same ops once
  // first). end_recording returns null when the ops could not be recorded (they did not run).
  virtual bool can_record() const { return false; }
  virtual void begin_recording() { SLUICE_ASSERT(false, "this backend cannot record ops"); }
  virtual std::unique_ptr<Recording> end_recording() { return nullptr; }

  // y[n, w.rows] = x[n, w.cols] . w^T, for every DType (ONE entry point).
  virtual void matmul(const float* x, int64_t n, const Weight& w, float* y) = 0;
  // Products sharing their input (q/k/v, gate/up): ys[i] = x . ws[i]^T (+ bias[i]). The CPU
  // and CUDA backends run those of one dtype and width as one (one activation quantization; one
  // parallel region or launch); CUDA adds the biases in the products' stores.
  struct Product {
    const Weight* w;
    float* y;                     // [n, w->rows]
    const float* bias = nullptr;  // [w->rows], or none
  };
  virtual void matmul_many(const float* x, int64_t n, const Product* products, int count) {
    for (int i = 0; i < count; ++i) matmul(x, n, *products[i].w, products[i].y);
    add_product_biases(n, products, count);
  }
  // Residual adds and RMSNorms folded into the products beside them (no separate norm or add
  // pass): true when this backend does so for n rows into weights like w. ModelRunner then calls
  // matmul_many_normed and matmul_add instead of rms_norm / add_rms_norm and matmul.
  virtual bool folds_norms(int64_t n, const Weight& w) const {
    (void)n, (void)w;
    return false;
  }
  // ys[i] = rms_norm(x, norm) . ws[i]^T with x unchanged; h [n, cols] is scratch the plain path
  // normalizes into (it may alias x when x is not needed after).
  virtual void matmul_many_normed(const float* x, int64_t n, const float* norm, float eps, float* h,
                                  const Product* products, int count) {
    rms_norm(x, n, products[0].w->cols, norm, eps, h);
    matmul_many(h, n, products, count);
  }
  // y[n, w.rows] += x . w^T (+ bias [w.rows], or none); h [n, w.rows] is scratch the plain path
  // multiplies into.
  virtual void matmul_add(const float* x, int64_t n, const Weight& w, const float* bias, float* y,
                          float* h) {
    matmul(x, n, w, h);
    if (bias) add_bias(h, n, w.rows, bias);
    add(y, h, n * w.rows);
  }
  // y[n, w.rows] += (silu(gate) * up) . w^T; the plain path writes silu(gate) * up over gate.
  virtual void matmul_add_gated(float* gate, const float* up, int64_t n, const Weight& w, float* y,
                                float* h) {
    silu_mul(gate, up, n * w.cols, gate);
    matmul_add(gate, n, w, nullptr, y, h);
  }
  // Mixture of experts (defaults: backend/moe_ops.cc, over the ops above).
  // The experts of a stacked weight [num_experts * rows, cols], placed for matmul_experts (the
  // default places each alone; a device backend may place them in one allocation).
  virtual std::vector<Weight> place_experts(const Weight& stacked, int64_t num_experts);
  // True when matmul_experts over experts placed like `expert` and the other MoE ops read the
  // routing where it is (no host sync), so a step using them can be recorded.
  virtual bool experts_on_device(const Weight& expert) const {
    (void)expert;
    return host_resident();
  }
  // ids, weights [n, k]:
  // each token's experts (in rank order) and their weights, from logits [n, num_experts].
  virtual void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k,
                         MoeRouting mode, bool renormalize, int32_t* ids, float* weights);
  // y[n * k, rows]: row t*k+j = x_row . experts[ids[t, j]]^T, x_row = x[t] (x [n, cols]) or, when
  // x_per_slot, x[t*k+j] (x [n * k, cols]). experts[num_experts] share one shape [rows, cols].
  virtual void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                              int64_t num_experts, const int32_t* ids, int64_t k, float* y);
  // matmul_experts with the experts' biases: y[s] += bias[ids[s]] (bias [num_experts, rows], or
  // none). matmul_experts_many: up to two such products over one x [n, cols] (gate and up);
  // matmul_experts_glu: over x[s] = glu(gate[s], up[s]) ([n * k, cols] each; gate may be
  // overwritten). scratch: [n * k, rows] floats for the defaults' bias rows.
  struct ExpertProduct {
    const Weight* experts;  // [num_experts]
    const float* bias;      // [num_experts, rows] or null
    float* y;               // [n * k, rows]
  };
  virtual void matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                                   int64_t num_experts, const int32_t* ids, int64_t k,
                                   float* scratch);
  // matmul_experts_many of rms_norm(x, norm) with x unchanged, where products fold norms
  // (folds_norms); h [n, cols] is scratch the plain path normalizes into.
  virtual void matmul_experts_many_normed(const float* x, int64_t n, const float* norm, float eps,
                                          float* h, const ExpertProduct* ps, int count,
                                          int64_t num_experts, const int32_t* ids, int64_t k,
                                          float* scratch) {
    rms_norm(x, n, ps[0].experts[0].cols, norm, eps, h);
    matmul_experts_many(h, n, ps, count, num_experts, ids, k, scratch);
  }
  // moe_route's inputs and outputs: logits [n, num_experts] -> ids, weights [n, k].
  struct Routing {
    const float* logits;
    MoeRouting mode;
    bool renormalize;
    int32_t* ids;
    float* weights;
  };
  // moe_route, then matmul_experts_many_normed over the experts it chose, as one op, so a backend
  // may route inside the experts' input pass (CUDA: one launch fewer a MoE layer).
  virtual void route_experts_many_normed(const Routing& r, const float* x, int64_t n,
                                         const float* norm, float eps, float* h,
                                         const ExpertProduct* ps, int count, int64_t num_experts,
                                         int64_t k, float* scratch) {
    moe_route(r.logits, n, num_experts, k, r.mode, r.renormalize, r.ids, r.weights);
    matmul_experts_many_normed(x, n, norm, eps, h, ps, count, num_experts, r.ids, k, scratch);
  }
  virtual void matmul_experts_glu(float* gate, const float* up, const Glu& glu, int64_t n,
                                  const ExpertProduct& p, int64_t num_experts, const int32_t* ids,
                                  int64_t k, float* scratch);
  // out[n, dim] = sum over j of weights[t, j] * y[t*k+j]   (y [n * k, dim], weights [n, k]);
  // accumulate: out += that sum (the same bits as the sum, then add).
  virtual void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                           float* out, bool accumulate = false);
  // out[n, table.cols] = rows ids[i] of table (dequantized).
  virtual void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) = 0;
  // y[n, dim] = x / rms(x) * weight   (y may alias x)
  virtual void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                        float* y) = 0;
  // In place on x[n, num_heads, head_dim] at positions[n] ([4, n] when p.multi()).
  virtual void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim,
                    const int32_t* positions, const RopeParams& p) = 0;
  // out[count] = silu(gate) * up   (out may alias gate)
  virtual void silu_mul(const float* gate, const float* up, int64_t count, float* out) = 0;
  // out[count] = gelu_tanh(gate) * up (GeGLU, tanh approximation; out may alias gate)
  virtual void gelu_mul(const float* gate, const float* up, int64_t count, float* out) = 0;
  // out[count] = (clamp(up, -limit, limit) + 1) * g * sigmoid(alpha * g), g = min(gate, limit)
  // (gpt-oss's clamped SwiGLU; out may alias gate)
  virtual void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha,
                              float limit, float* out) = 0;
  // x[count] *= s
  virtual void scale(float* x, int64_t count, float s) = 0;
  // x[count] += y[count]
  virtual void add(float* x, const float* y, int64_t count) = 0;
  // x[n, dim] += r; y = rms_norm(x) (the residual add and the next norm; y may alias r or x).
  virtual void add_rms_norm(float* x, const float* r, int64_t n, int64_t dim, const float* weight,
                            float eps, float* y) {
    add(x, r, n * dim);
    rms_norm(x, n, dim, weight, eps, y);
  }
  // x[n, dim] += rms_norm(r, r_weight) (a block's output norm before its residual add: Gemma's
  // sandwich norms); then y = rms_norm(x, weight) where weight is given. r may be overwritten
  // (the plain path normalizes it in place); y may alias r.
  virtual void add_normed_rms_norm(float* x, float* r, const float* r_weight, int64_t n,
                                   int64_t dim, const float* weight, float eps, float* y) {
    rms_norm(r, n, dim, r_weight, eps, r);
    if (weight)
      add_rms_norm(x, r, n, dim, weight, eps, y);
    else
      add(x, r, n * dim);
  }
  // Norms, RoPE and the cache write before attention (QkvInputs); device backends fuse them.
  virtual void prepare_qkv(const QkvInputs& in, const KvLayerView& cache) {
    if (in.q_norm) rms_norm(in.q, in.n * in.num_heads, in.head_dim, in.q_norm, in.eps, in.q);
    if (in.k_norm) rms_norm(in.k, in.n * in.num_kv_heads, in.head_dim, in.k_norm, in.eps, in.k);
    rope(in.q, in.n, in.num_heads, in.head_dim, in.positions, in.rope);
    rope(in.k, in.n, in.num_kv_heads, in.head_dim, in.positions, in.rope);
    cache_write(in.k, in.v, in.n, in.slot_mapping, cache);
  }
  // x[n, dim] += bias[dim] for every row
  virtual void add_bias(float* x, int64_t n, int64_t dim, const float* bias) = 0;
  // out[m, dim] = x[rows[i], :] for i < m   (rows backend-resident)
  virtual void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                           float* out) = 0;
  // Writes k, v [n, num_kv_heads, head_dim] into the cache at slot_mapping.
  virtual void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                           const KvLayerView& cache) = 0;
  // out[n, num_heads, head_dim] = causal softmax(q k^T * scale) v, K/V read through block tables
  // (within cache.window where it is set; false from supports_window: not on this backend).
  virtual bool supports_window() const { return true; }
  virtual void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                               const AttentionBatch& batch, float scale, float* out) = 0;
  // Recurrent ops (gated delta-net layers; RecurrentBatch). A sequence of 0 rows leaves its
  // state as it is.
  // out[t, c] = silu(sum_j weight[c, j] * in[t - (kernel-1) + j, c]) over each sequence's rows
  // (a causal depthwise convolution), where in[< 0] are the state's rows (zeros when fresh);
  // x, out [n, channels] (out may alias x); weight [channels, kernel] f32 (kernel <= 8);
  // state [num_slots, kernel-1, channels] (each sequence's last kernel-1 inputs, oldest first,
  // also when it has fewer new rows than that) is updated.
  virtual void causal_conv1d_silu(const float* x, int64_t channels, const float* weight,
                                  int64_t kernel, float* state, const RecurrentBatch& batch,
                                  float* out) = 0;
  // The gated delta rule over each sequence's rows in order, per value head h, S [dk, dv] its
  // state (row i a key dim, column j a value dim):
  //   q, k = x * rsqrt(sum x^2 + eps) per head; q *= 1/sqrt(dk)
  //   beta = sigmoid(b[t, h]); g = a_neg[h] * softplus(a[t, h] + dt_bias[h])
  //   S = exp(g) S;  S += k (beta (v - S^T k))^T;  out[t, h] = S^T q
  // (softplus as torch's: x for x > 20). qkv [n, shape.qkv_dim()]: each row the q heads
  // [Hk, dk], k heads [Hk, dk], v heads [Hv, dv]; a, b [n, Hv]; a_neg, dt_bias [Hv];
  // state [num_slots, Hv, dk, dv] updated (dk <= 256); out [n, Hv, dv].
  virtual void gated_delta_rule(const float* qkv, const float* a, const float* b,
                                const float* a_neg, const float* dt_bias,
                                const DeltaNetShape& shape, float* state,
                                const RecurrentBatch& batch, float* out) = 0;
  // x[n, dim] *= sigmoid(gate), gate [n, gate_dim] with gate_dim == dim, or 1 (one per row).
  virtual void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim,
                           int64_t gate_dim) = 0;
  // Encoder ops (BERT family).
  // y[n, dim] = (x - mean) / sqrt(var + eps) * weight + bias, per row (biased variance; y may
  // alias x).
  virtual void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight,
                          const float* bias, float eps, float* y) = 0;
  // out[count] = 0.5 x (1 + erf(x / sqrt 2)) (exact GELU; out may alias x)
  virtual void gelu_erf(const float* x, int64_t count, float* out) = 0;
  // out[n, num_heads, head_dim] = softmax(q k^T * scale) v over each whole sequence of batch
  // (bidirectional: every row of a sequence, none of another); q, k, v [n, num_heads, head_dim].
  virtual void bidirectional_attention(const float* q, const float* k, const float* v,
                                       int64_t num_heads, int64_t head_dim,
                                       const SequenceBatch& batch, float scale, float* out) = 0;
  // out[num_seqs, dim] = each sequence's rows of x[n, dim] pooled: their mean, the first (CLS)
  // or the last row.
  virtual void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode,
                         float* out) = 0;
  // x[n, dim] /= max(||row||_2, 1e-12) per row (torch.nn.functional.normalize).
  virtual void l2_normalize(float* x, int64_t n, int64_t dim) = 0;
  // Vision ops (image encoders: SigLIP, the Gemma 3 projector).
  // out[count] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GELU, tanh approximation;
  // out may alias x)
  virtual void gelu_tanh(const float* x, int64_t count, float* out) = 0;
  // out[(height/kernel) * (width/kernel), dim] = the mean of each kernel x kernel block of
  // x[height * width, dim], whose rows are a height x width grid in row-major order; out's rows
  // are the pooled grid, row-major (height and width multiples of kernel; torch's AvgPool2d with
  // stride = kernel).
  virtual void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim,
                           int64_t kernel, float* out) = 0;

  // out[i] = the index of the largest value in row i of x[rows, cols] (the first of equal ones;
  // NaN never wins; 0 when a row holds only -inf and NaN): greedy picks made where the logits
  // are, so only token ids reach the host. The default scans host memory.
  virtual void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out);
  // Sampling where the logits are: out[i] = rows[i] applied to row rows[i].row of x[*, vocab],
  // so that only tokens (and asked-for logprobs) reach the host. Backends whose memory is the
  // host's do not offer it (the engine's sampler reads their logits in place).
  virtual bool samples_rows() const { return false; }
  virtual void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                           RowSampled* out);

 protected:
  // ps[i].y += ps[i].bias where a product has one (after products that did not add it).
  void add_product_biases(int64_t n, const Product* ps, int count) {
    for (int i = 0; i < count; ++i)
      if (ps[i].bias) add_bias(ps[i].y, n, ps[i].w->rows, ps[i].bias);
  }
};

// "cpu", "cuda" (first GPU) or "auto" (CUDA when this build has it and a GPU is present).
// cpu_int8_activations: see make_cpu_backend; an error when the device picked is a GPU.
Result<std::unique_ptr<Backend>> make_backend(const std::string& device, int num_threads,
                                              bool cpu_int8_activations = false);
// True when this build has the CUDA backend and a GPU is visible.
bool cuda_available();
// The optional weight types a load for make_backend(device, ...)'s backend picks (Model::load).
OptionalDTypes optional_dtypes_for(const std::string& device);
// The CPU backend's: Q4G32R8 where its kernels for it run (AVX-VNNI or AVX512-VNNI, no AMX),
// in both activation modes.
OptionalDTypes cpu_optional_dtypes();

// SIMD + OpenMP CPU backend; num_threads <= 0 means all cores. Calls on one instance must not
// overlap (it reuses scratch buffers); ops parallelize internally. int8_activations: 4-bit
// (Q4G32) weights multiply int8 instead of int16 activations, ~2x faster batched matmuls on
// AVX2 at llama.cpp's precision (logits ~1e-2 from exact instead of ~3e-5).
std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool int8_activations = false);
// Plain scalar reference of every op (single-threaded, slow): the semantics tests compare against.
std::unique_ptr<Backend> make_reference_backend();

}  // namespace sluice
