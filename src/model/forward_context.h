#pragma once
// What an architecture's forward pass works with for one step: the backend, the config, the
// weights as placed on the backend, the step's buffers and batch, and the paged KV cache.
// ModelRunner fills it; model/arch/<name>.cc composes blocks (model/blocks/) over it.
#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "model/model_config.h"

namespace sluice {

// One decoder layer's weights in backend memory. Vectors are F32 [1, n]; an absent one
// (no bias, no q/k norm) has data == nullptr.
struct PlacedLayer {
  Weight attn_norm, ffn_norm;     // [1, hidden]
  Weight q_norm, k_norm;          // [1, head_dim]
  Weight q_bias, k_bias, v_bias;  // [1, heads*hd], [1, kv_heads*hd] x2
  Weight wq, wk, wv, wo;          // [heads*hd, hidden], [kv*hd, hidden] x2, [hidden, heads*hd]
  Weight w_gate, w_up, w_down;    // [inter, hidden] x2, [hidden, inter]
  // Mixture of experts: the router and one weight per expert.
  Weight router;                                      // [experts, hidden]
  std::vector<Weight> gate_exps, up_exps, down_exps;  // [expert_inter, hidden] x2, [hidden, ..]
  Weight post_attn_norm, post_ffn_norm;               // [1, hidden] (Gemma; absent elsewhere)
  // gpt-oss (absent elsewhere):
  Weight o_bias, sinks, router_bias;                    // [1, hidden], [1, heads], [1, experts]
  Weight gate_exps_bias, up_exps_bias, down_exps_bias;  // [1, experts * inter] x2, [.., * hidden]
  // Hybrid models (absent elsewhere; shapes as LayerWeights in model.h):
  Weight wq_gate;
  Weight lin_qkv, lin_z, lin_b, lin_a, lin_out;
  Weight lin_conv, lin_a_neg, lin_dt_bias, lin_norm;  // F32 [1, n] vectors
  Weight w_gate_shexp, w_up_shexp, w_down_shexp, w_shexp_gate;
};

struct PlacedWeights {
  Weight embed, lm_head;  // [vocab, hidden] (one placed copy when tied)
  Weight final_norm;      // [1, hidden]
  Weight inv_freq;        // [1, head_dim/2] RoPE
  Weight inv_freq_local;  // [1, head_dim/2] RoPE of sliding-window layers (Gemma 3)
  std::vector<PlacedLayer> layers;
};

// One step's batch in backend memory: index arrays uploaded, activation buffers sized.
struct StepBuffers {
  int64_t n = 0, m = 0;                     // tokens, logit rows
  const int32_t* tokens = nullptr;          // [n]
  const int32_t* positions = nullptr;       // [n]
  const int32_t* rope_positions = nullptr;  // [4, n] M-RoPE models (planes t, h, w, e); else null
  const int32_t* rows = nullptr;            // [m] logit rows
  // KV cache group 0's batch; with more than one group (KvLayout), group_ab holds each group's,
  // with its own block tables and slot mapping. attention() picks a layer's.
  AttentionBatch ab;
  std::vector<AttentionBatch> group_ab;
  float* x = nullptr;     // [n, hidden] residual stream
  float* h = nullptr;     // [n, hidden] normed (or scratch where norms fold)
  float* q = nullptr;     // [n, heads, hd]
  float* k = nullptr;     // [n, kv_heads, hd]
  float* v = nullptr;     // [n, kv_heads, hd]
  float* attn = nullptr;  // [n, heads, hd]
  float* gate = nullptr;  // [n, inter]
  float* up = nullptr;    // [n, inter]
  // Mixture of experts (k = experts per token):
  float* router = nullptr;        // [n, experts]
  int32_t* expert_ids = nullptr;  // [n, k]
  float* expert_w = nullptr;      // [n, k]
  float* exp_gate = nullptr;      // [n * k, expert_inter]
  float* exp_up = nullptr;        // [n * k, expert_inter]
  float* exp_out = nullptr;       // [n * k, hidden]
  float* moe_out = nullptr;       // [n, hidden]
  float* exp_bias = nullptr;      // [n * k, max(expert_inter, hidden)] (expert biases only)
  // Hybrid models: the attention output gate and the gated delta-net's activations
  // (C conv channels, Hv value heads of dv).
  float* attn_gate = nullptr;                // [n, heads, hd]
  float* lin_qkv = nullptr;                  // [n, C]
  float* lin_conv = nullptr;                 // [n, C]
  float* lin_z = nullptr;                    // [n, Hv*dv]
  float* lin_b = nullptr;                    // [n, Hv]
  float* lin_a = nullptr;                    // [n, Hv]
  float* lin_core = nullptr;                 // [n, Hv*dv]
  RecurrentBatch rb;                         // each sequence's state slot
  std::span<const EmbeddingSplice> splices;  // images' rows of x (model.h), [count, hidden] each
  // Deepstack models (ModelConfig::num_deepstack_layers = D), steps with splices: slice k of
  // the splices' rows, each splice's after the previous ones' (R rows in all).
  const float* deepstack = nullptr;  // [D, R, hidden]
  int64_t deepstack_rows = 0;        // R
  float* last = nullptr;             // [m, hidden]
  float* logits = nullptr;           // [m, vocab]

  const AttentionBatch& attention(const KvLayerView& cache) const {
    return group_ab.empty() ? ab : group_ab[cache.group];
  }
};

struct ForwardContext {
  Backend& be;
  const ModelConfig& config;
  const PlacedWeights& w;
  const StepBuffers& s;
  KvStorage& kv;
};

// An architecture's forward pass: logits of the step's rows into s.logits, KV cache written.
using ForwardFn = void (*)(const ForwardContext&);

// A placed F32 vector's data (null when absent).
inline const float* f32(const Weight& w) {
  return reinterpret_cast<const float*>(w.data);
}

}  // namespace sluice
