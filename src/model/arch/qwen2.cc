// Qwen2 / Qwen2.5: the Llama layout plus biases on the q/k/v projections; NeoX-style RoPE.
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"

namespace sluice {

const ArchSpec& qwen2_arch() {
  static const ArchSpec spec{
      .name = "qwen2",
      .hf_architectures = {"Qwen2ForCausalLM"},
      .hf_model_types = {"qwen2"},
      .gguf_architectures = {"qwen2"},
      .default_rope_theta = 1000000.0f,
      .attention_bias = true,
      .qk_norm = false,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = false,
      .forward = llama_forward,
  };
  return spec;
}

}  // namespace sluice
