#pragma once
// One entry per supported architecture; each lives in its own file (llama.cc, qwen2.cc, ...).
#include <string>
#include <vector>

#include "model/forward_context.h"

namespace sluice {

struct ModelConfig;

struct ArchSpec {
  std::string name;                             // "llama"
  std::vector<std::string> hf_architectures;    // config.json "architectures" values
  std::vector<std::string> hf_model_types;      // config.json "model_type" values
  std::vector<std::string> gguf_architectures;  // GGUF general.architecture values
  float default_rope_theta = 10000.0f;
  bool attention_bias = false;
  bool qk_norm = false;
  bool gguf_rope_interleaved = false;  // converter permuted Q/K (llama.cpp's llama family)
  bool default_tie_word_embeddings = false;
  bool moe = false;  // a mixture of experts in place of every layer's MLP
  // M-RoPE (Qwen2-VL): 3 positions per token (time, row, column), each turning a section of the
  // rotated pairs; GGUF `rope.dimension_sections`.
  bool mrope = false;
  // Qwen3-VL: interleaved M-RoPE sections (llama.cpp's IMROPE) and deepstack image rows
  // (GGUF `n_deepstack_layers`, ModelConfig::num_deepstack_layers).
  bool interleaved_mrope = false;
  bool deepstack = false;
  // Gemma family: local (sliding-window) and global layers, norms after attention and MLP,
  // norm weights stored as (w - 1) in Hugging Face files (applied as 1 + w).
  bool sliding_window_layers = false;
  bool norms_offset_one = false;
  // Hybrid linear attention (Qwen3.5, Qwen3-Next): gated delta-net layers beside gated full
  // attention and a shared expert in MoE layers. gguf_linear_heads_tiled: llama.cpp's converter
  // reordered the value heads (qwen35); hf_fused_linear: Hugging Face files fuse q/k/v/z and b/a
  // per key head (Qwen3-Next's in_proj_qkvz, in_proj_ba).
  bool hybrid = false;
  bool gguf_linear_heads_tiled = false;
  bool hf_fused_linear = false;
  ForwardFn forward = nullptr;  // the architecture's forward pass (model/blocks/ composed)
};

const ArchSpec& llama_arch();
const ArchSpec& qwen2_arch();
const ArchSpec& qwen2vl_arch();
const ArchSpec& qwen3_arch();
const ArchSpec& qwen3_moe_arch();
const ArchSpec& qwen3vl_arch();
const ArchSpec& qwen3vlmoe_arch();
const ArchSpec& gemma3_arch();
const ArchSpec& gpt_oss_arch();
const ArchSpec& qwen35_arch();
const ArchSpec& qwen35moe_arch();
const ArchSpec& qwen3next_arch();

// All supported architectures, and lookups; nullptr when unknown.
const std::vector<const ArchSpec*>& all_archs();
const ArchSpec* find_arch_by_hf(const std::string& architecture, const std::string& model_type);
const ArchSpec* find_arch_by_gguf(const std::string& gguf_arch);
const ArchSpec* find_arch_by_name(const std::string& name);

}  // namespace sluice
