// Qwen3 (dense): no projection biases; per-head RMSNorm of q and k (q_norm, k_norm) before RoPE;
// head_dim is explicit in the config (not hidden / heads).
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"

namespace sluice {

const ArchSpec& qwen3_arch() {
  static const ArchSpec spec{
      .name = "qwen3",
      .hf_architectures = {"Qwen3ForCausalLM"},
      .hf_model_types = {"qwen3"},
      .gguf_architectures = {"qwen3"},
      .default_rope_theta = 1000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = true,
      .forward = llama_forward,
  };
  return spec;
}

}  // namespace sluice
