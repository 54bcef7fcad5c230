// Llama family: Llama 2/3.x (with llama3 RoPE scaling), SmolLM/SmolLM2, Mistral-style dense models.
// Pre-norm decoder, GQA, RoPE, SiLU-gated MLP, no biases.
#include "model/arch/arch_spec.h"

namespace sluice {

const ArchSpec& llama_arch() {
  static const ArchSpec spec{
      .name = "llama",
      .hf_architectures = {"LlamaForCausalLM", "MistralForCausalLM"},
      .hf_model_types = {"llama", "mistral"},
      .gguf_architectures = {"llama", "mistral"},
      .default_rope_theta = 10000.0f,
      .attention_bias = false,
      .qk_norm = false,
      .gguf_rope_interleaved = true,
      .default_tie_word_embeddings = false,
  };
  return spec;
}

}  // namespace sluice
