#pragma once
// A loaded decoder-only transformer: config, weights (kept quantized), tokenizer, chat template,
// as loaded on the host. ModelRunner (model_runner.h) runs it on a backend.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/status.h"
#include "model/kv_storage.h"
#include "model/model_config.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;            // [hidden]
  std::vector<float> post_attn_norm, post_ffn_norm;  // [hidden] (Gemma: after attention / MLP)
  std::vector<float> q_norm, k_norm;                 // [head_dim] (qk_norm only)
  std::vector<float> q_bias, k_bias, v_bias;  // [heads*head_dim], [kv_heads*head_dim] (bias only)
  Weight wq, wk, wv, wo;        // [heads*hd, hidden], [kv*hd, hidden] x2, [hidden, heads*hd]
  Weight w_gate, w_up, w_down;  // [inter, hidden] x2, [hidden, inter]
  // Mixture of experts (config.num_experts > 0), experts stacked along the rows:
  Weight w_router;                // [experts, hidden]
  Weight w_gate_exps, w_up_exps;  // [experts * expert_inter, hidden]
  Weight w_down_exps;             // [experts * hidden, expert_inter]
  // gpt-oss: biases of the output projection, router and experts; per-head sink logits.
  std::vector<float> o_bias, sinks;  // [hidden], [heads]
  std::vector<float> router_bias;    // [experts]
  std::vector<float> gate_exps_bias, up_exps_bias,
      down_exps_bias;  // [experts, inter] x2, [.., hidden]
  // Hybrid models (Qwen3.5, Qwen3-Next). Full attention: the q projection's gate rows.
  Weight wq_gate;  // [heads*hd, hidden]
  // Gated delta-net layers (Hk, Hv heads of dk, dv; C = 2*Hk*dk + Hv*dv conv channels):
  Weight lin_qkv;                   // [C, hidden]
  Weight lin_z;                     // [Hv*dv, hidden]
  Weight lin_b, lin_a;              // [Hv, hidden]
  Weight lin_out;                   // [hidden, Hv*dv]
  std::vector<float> lin_conv;      // [C, kernel]
  std::vector<float> lin_a_neg;     // [Hv] -exp(A_log)
  std::vector<float> lin_dt_bias;   // [Hv]
  std::vector<float> lin_norm;      // [dv] gated RMSNorm weight
  Weight w_gate_shexp, w_up_shexp;  // [shared_inter, hidden] (shared expert)
  Weight w_down_shexp;              // [hidden, shared_inter]
  Weight w_shexp_gate;              // [1, hidden]
};

// Rows [row, row + count) of a step's input embeddings taken from `src` (host memory,
// [count, width]: an image's soft tokens) instead of the token embedding table. width: hidden
// (0 says the same), or with deepstack ModelConfig::image_embedding_width(): the row first, then
// deepstack slices 1..n (ModelRunner splits them off).
struct EmbeddingSplice {
  int64_t row = 0, count = 0;
  const float* src = nullptr;
  int64_t width = 0;
};

// One step's flattened batch (see AttentionBatch for the attention part); block tables and slot
// mappings come once per KV cache group (KvLayout).
struct ForwardBatch {
  std::vector<int32_t> tokens;     // [num_tokens]
  std::vector<int32_t> positions;  // [num_tokens]
  // M-RoPE models: each token's rope positions, planes t, h, w, e [4, num_tokens]
  // (RopeParams::sections); empty: all four are `positions` (text).
  std::vector<int32_t> rope_positions;
  std::vector<int32_t> query_start;   // [num_seqs + 1]
  std::vector<int32_t> block_tables;  // [num_kv_groups, num_seqs, max_blocks_per_seq]
  int64_t max_blocks_per_seq = 0;
  int64_t num_kv_groups = 1;
  std::vector<int32_t> slot_mapping;  // [num_kv_groups, num_tokens]
  std::vector<int32_t> logit_rows;    // token indices whose logits are wanted
  // Hybrid models: each sequence's state slot (StateStorage), and 1 where it starts from a zero
  // state (its first token is position 0), else 0.
  std::vector<int32_t> state_slots;  // [num_seqs]
  std::vector<int32_t> state_fresh;  // [num_seqs]
  // Images: rows spliced into the input embeddings; and where a model's image tokens attend to
  // each other, the last position each token attends to (empty: its own, causal).
  std::vector<EmbeddingSplice> splices;
  std::vector<int32_t> attend_until;  // [num_tokens] or empty
};

class Model {
 public:
  // path: a .gguf file or a model directory (config.json + safetensors, HF or MLX-quantized).
  // dtypes: the optional weight types the backend that will run it reads
  // (optional_dtypes_for); the default ones are read by every backend.
  static Result<std::unique_ptr<Model>> load(const std::string& path, OptionalDTypes dtypes = {});
  ~Model();

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::string& chat_template() const { return chat_template_; }
  const std::string& path() const { return path_; }

 private:
  friend class ModelRunner;  // places the weights on a backend and runs the forward pass
  struct Files;
  Model();
  // gguf: llama.cpp's conventions (norm weights stored as w, not Gemma's and Qwen3.5's w - 1).
  Status load_weights(const class WeightSource& src, bool gguf);

  std::string path_;
  ModelConfig config_;
  std::unique_ptr<Files> files_;  // mapped files the weights point into
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
  Weight embed_, lm_head_;         // [vocab, hidden]
  std::vector<float> final_norm_;  // [hidden]
  std::vector<LayerWeights> layers_;
  std::vector<float> inv_freq_;        // [head_dim/2]
  std::vector<float> inv_freq_local_;  // [head_dim/2] sliding-window layers (Gemma 3)
};

}  // namespace sluice
