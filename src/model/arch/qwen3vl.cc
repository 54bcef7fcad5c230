// Qwen3-VL's language model as llama.cpp's converter writes it (GGUF `qwen3vl`, `qwen3vlmoe`):
// Qwen3's layers (q/k norms; dense MLP, or Qwen3 MoE's experts) with interleaved M-RoPE
// (RopeParams::interleaved_sections) and deepstack: an image token's input row carries
// D extra slices, slice k added to its residual row after layer k - 1 (blocks/deepstack.h,
// in pre_norm_decoder's layer loop).
//   x = embed(tokens), images' rows spliced in (first `hidden` floats of each wide row)
//   per layer l: x += attention(attn_norm(x)) ; x += mlp(ffn_norm(x)) ; x[image] += slice l + 1
//   logits = lm_head(norm(x[logit_rows]))
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"

namespace sluice {

const ArchSpec& qwen3vl_arch() {
  static const ArchSpec spec{
      .name = "qwen3vl",
      .hf_architectures = {"Qwen3VLForConditionalGeneration"},  // the language model of it
      .hf_model_types = {"qwen3_vl", "qwen3_vl_text"},
      .gguf_architectures = {"qwen3vl"},
      .default_rope_theta = 5000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = true,
      .mrope = true,
      .interleaved_mrope = true,
      .deepstack = true,
      .forward = llama_forward,  // pre_norm_decoder adds the deepstack slices
  };
  return spec;
}

const ArchSpec& qwen3vlmoe_arch() {
  static const ArchSpec spec{
      .name = "qwen3vlmoe",
      .hf_architectures = {"Qwen3VLMoeForConditionalGeneration"},
      .hf_model_types = {"qwen3_vl_moe", "qwen3_vl_moe_text"},
      .gguf_architectures = {"qwen3vlmoe"},
      .default_rope_theta = 5000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = false,
      .moe = true,
      .mrope = true,
      .interleaved_mrope = true,
      .deepstack = true,
      .forward = qwen3_moe_forward,
  };
  return spec;
}

}  // namespace sluice
