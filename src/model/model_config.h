#pragma once
// Architecture hyper-parameters, read from config.json (HF / MLX) or GGUF metadata.
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class GgufFile;
struct ArchSpec;

struct RopeScaling {
  std::string type;  // "" (none), "linear", "llama3", "yarn"
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  int64_t original_max_position_embeddings = 8192;
  // YaRN: the ramp between interpolated and kept frequencies spans the dimensions rotating
  // beta_fast..beta_slow times over the original context (rounded outwards when truncate).
  float beta_fast = 32.0f, beta_slow = 1.0f;
  bool truncate = true;
  float attention_factor = 0.0f;  // 0: 0.1 * ln(factor) + 1
};

struct ModelConfig {
  const ArchSpec* arch = nullptr;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 4096;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling;
  bool rope_interleaved = false;  // GGUF llama stores Q/K permuted for pairwise rotation
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projections carry a bias (Qwen2)
  bool qk_norm = false;         // per-head RMSNorm on q and k before RoPE (Qwen3)
  // Gemma 3: sliding-window (local) layers with their own RoPE base; every Nth layer global.
  int64_t sliding_window = 0;          // > 0: the local layers' window (positions)
  int64_t sliding_window_pattern = 0;  // layer i is global when (i + 1) % pattern == 0
  float rope_theta_local = 10000.0f;   // RoPE base of the local layers (unscaled)
  float query_scale = 0.0f;            // attention scale; 0: 1/sqrt(head_dim)
  bool is_sliding(int64_t layer) const {
    return sliding_window > 0 &&
           (sliding_window_pattern <= 0 || (layer + 1) % sliding_window_pattern != 0);
  }
  // gpt-oss: a learned sink logit per head in every softmax, biases on the output projection,
  // the router and the experts, and clamped SwiGLU experts (swiglu_limit > 0):
  //   g = min(gate, limit), u = clamp(up, -limit, limit); act = (u + 1) * g * sigmoid(alpha * g)
  bool attention_sinks = false;
  float swiglu_limit = 0.0f;
  float swiglu_alpha = 1.702f;
  // Mixture of experts (0 experts: a dense MLP in every layer).
  int64_t num_experts = 0;
  int64_t num_experts_used = 0;          // k experts per token
  int64_t expert_intermediate_size = 0;  // each expert's MLP width
  bool norm_topk_prob = false;           // the k routing weights divided by their sum

  // A shared expert beside the routed ones (Qwen3-Next, Qwen3.5 MoE): its gated MLP's output is
  // scaled by sigmoid(x . w_shared_gate) and added to theirs. 0: none.
  int64_t shared_expert_intermediate_size = 0;
  // Hybrid linear attention (Qwen3.5, Qwen3-Next): gated delta-net layers beside gated full
  // attention. Layer i is recurrent when recurrent_layers[i] != 0 (empty: no recurrent layer).
  std::vector<uint8_t> recurrent_layers;  // [num_layers]
  int64_t linear_num_k_heads = 0, linear_num_v_heads = 0;
  int64_t linear_head_k_dim = 0, linear_head_v_dim = 0;
  int64_t linear_conv_kernel = 0;
  bool linear_heads_tiled = false;  // value head h reads key head h % Hk (llama.cpp's qwen35)
  // Full attention whose q projection also yields a per-head gate: out *= sigmoid(gate).
  bool attention_output_gate = false;
  // > 0: only the first rotary_dim dimensions of each head rotate (partial RoPE); 0: head_dim.
  int64_t rotary_dim = 0;
  bool is_recurrent(int64_t layer) const {
    return layer < static_cast<int64_t>(recurrent_layers.size()) && recurrent_layers[layer] != 0;
  }
  bool hybrid() const {
    for (uint8_t r : recurrent_layers)
      if (r) return true;
    return false;
  }
  int64_t rope_dim() const { return rotary_dim > 0 ? rotary_dim : head_dim; }
  // M-RoPE (ArchSpec::mrope): rotated pairs per position plane (t, h, w, e), RopeParams::sections.
  std::array<int32_t, 4> rope_sections{};
  bool mrope() const { return rope_sections[0] + rope_sections[1] + rope_sections[2] > 0; }
  // Qwen3-VL: the sections interleave (RopeParams::interleaved_sections).
  bool rope_sections_interleaved = false;
  // Qwen3-VL's deepstack: an image token's input row is [hidden * (1 + n)]; slice k (1..n) is
  // added to its residual stream after layer k - 1 (blocks/deepstack.h). 0: plain rows.
  int64_t num_deepstack_layers = 0;
  // Floats per row of an image's embeddings (what the vision tower must produce).
  int64_t image_embedding_width() const { return hidden_size * (1 + num_deepstack_layers); }

  // Checks ranges and divisibility; "[config] ..." errors.
  Status validate() const;
  // inv_freq[rope_dim()/2] for RoPE, with the configured scaling applied.
  std::vector<float> rope_inv_freq() const;
  // The same for the sliding-window layers (rope_theta_local, no scaling).
  std::vector<float> rope_inv_freq_local() const;
  // YaRN's factor on cos and sin (so q.k scales by its square); 1 without YaRN.
  float rope_attention_factor() const;
  // The attention softmax scale: query_scale or 1/sqrt(head_dim), times YaRN's factor squared.
  float attention_scale() const;
};

Result<ModelConfig> config_from_hf_json(const nlohmann::json& j, const std::string& where);
Result<ModelConfig> config_from_gguf(const GgufFile& gguf);

}  // namespace sluice
