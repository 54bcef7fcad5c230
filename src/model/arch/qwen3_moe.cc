// Qwen3 MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention (q/k norms, NeoX RoPE) with a
// mixture of experts in place of every MLP: softmax router over all experts, top-k,
// renormalized when norm_topk_prob.
//   per layer: x += attention(attn_norm(x)) ; x += moe(ffn_norm(x))
#include "model/arch/arch_spec.h"
#include "model/blocks/attention.h"
#include "model/blocks/logits.h"
#include "model/blocks/moe.h"

namespace sluice {

namespace {

void qwen3_moe_forward(const ForwardContext& f) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  f.be.embedding(f.w.embed, s.tokens, s.n, s.x);
  const bool fold = !layers.empty() && f.be.folds_norms(s.n, layers[0].wq);
  blocks::Residual r(f.be, s.x, s.h, s.n, c.hidden_size, c.rms_norm_eps, fold);
  if (!layers.empty()) r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    blocks::attention(f, r, f32(L.attn_norm), blocks::attention_weights(L),
                      f.kv.layer(static_cast<int64_t>(li)), f32(L.ffn_norm));
    blocks::moe_mlp(f, r, f32(L.ffn_norm), blocks::moe_weights(L), MoeRouting::kSoftmaxTopK,
                    next_norm);
  }
  blocks::logits(f, s.x);
}

}  // namespace

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
