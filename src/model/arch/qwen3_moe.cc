// Qwen3 MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention (q/k norms, NeoX RoPE) with a
// mixture of experts in place of every MLP: softmax router over all experts, top-k,
// renormalized when norm_topk_prob.
//   per layer: x += attention(attn_norm(x)) ; x += moe(ffn_norm(x))
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"
#include "model/blocks/moe.h"

namespace sluice {

void qwen3_moe_forward(const ForwardContext& f) {
  pre_norm_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                         const float* next_norm) {
    blocks::moe_mlp(f, r, f32(L.ffn_norm), blocks::moe_weights(L), MoeRouting::kSoftmaxTopK,
                    next_norm);
  });
}

const ArchSpec& qwen3_moe_arch() {
  static const ArchSpec spec{
      .name = "qwen3moe",
      .hf_architectures = {"Qwen3MoeForCausalLM"},
      .hf_model_types = {"qwen3_moe"},
      .gguf_architectures = {"qwen3moe"},
      .default_rope_theta = 1000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = false,
      .moe = true,
      .forward = qwen3_moe_forward,
  };
  return spec;
}

}  // namespace sluice
