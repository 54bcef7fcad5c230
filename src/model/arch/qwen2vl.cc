// Qwen2-VL / Qwen2.5-VL's language model as llama.cpp's converter writes it (GGUF `qwen2vl`):
// Qwen2's layers with M-RoPE, each rotated pair turning by the time, row or column position of
// its section (ModelConfig::rope_sections). Text tokens have t = h = w: Qwen2 exactly.
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"

namespace sluice {

const ArchSpec& qwen2vl_arch() {
  static const ArchSpec spec{
      .name = "qwen2vl",
      // Hugging Face's Qwen2-VL and Qwen2.5-VL checkpoints (the language model; config.json's
      // text settings at the top level or in text_config).
      .hf_architectures = {"Qwen2_5_VLForConditionalGeneration", "Qwen2VLForConditionalGeneration"},
      .hf_model_types = {"qwen2_5_vl", "qwen2_vl", "qwen2_5_vl_text", "qwen2_vl_text"},
      .gguf_architectures = {"qwen2vl"},
      .default_rope_theta = 1000000.0f,
      .attention_bias = true,
      .qk_norm = false,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = false,
      .mrope = true,
      .forward = llama_forward,
  };
  return spec;
}

}  // namespace sluice
