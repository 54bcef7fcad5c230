// Hybrid linear attention: Qwen3.5 (dense `qwen35`, MoE `qwen35moe`) and Qwen3-Next. Three of
// every four layers are gated delta-net (a recurrent state per sequence instead of KV pages), the
// fourth gated full attention (q/k norms, partial RoPE, out * sigmoid(gate)); the MLP is
// SiLU-gated, or a mixture of experts plus a sigmoid-gated shared expert.
//   x = embed(tokens)
//   per layer: x += (recurrent ? gated_delta_net : gated_attention)(attn_norm(x))
//              x += mlp(post_attention_norm(x))
//   logits = lm_head(norm(x[logit_rows]))
#include "model/arch/arch_spec.h"
#include "model/blocks/attention.h"
#include "model/blocks/gated_delta_net.h"
#include "model/blocks/logits.h"
#include "model/blocks/mlp.h"
#include "model/blocks/moe.h"

namespace sluice {

namespace {

using HybridMlp = void (*)(const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                           const float* next_norm);

void hybrid_decoder(const ForwardContext& f, HybridMlp mlp) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  SLUICE_ASSERT(f.kv.state(), "a hybrid model runs with a state storage");
  f.be.embedding(f.w.embed, s.tokens, s.n, s.x);
  const Weight& first = c.is_recurrent(0) ? layers[0].lin_qkv : layers[0].wq;
  const bool fold = f.be.folds_norms(s.n, first);
  blocks::Residual r(f.be, s.x, s.h, s.n, c.hidden_size, c.rms_norm_eps, fold);
  r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const auto i = static_cast<int64_t>(li);
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    if (c.is_recurrent(i))
      blocks::gated_delta_net(f, r, f32(L.attn_norm), blocks::delta_net_weights(L),
                              f.kv.state()->layer(i), f32(L.ffn_norm));
    else
      blocks::attention(f, r, f32(L.attn_norm), blocks::attention_weights(L), f.kv.layer(i),
                        f32(L.ffn_norm));
    mlp(f, r, L, next_norm);
  }
  blocks::logits(f, s.x);
}

void qwen35_forward(const ForwardContext& f) {
  hybrid_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                       const float* next_norm) {
    blocks::gated_mlp(f, r, f32(L.ffn_norm), L.w_gate, L.w_up, L.w_down, next_norm);
  });
}

void qwen35moe_forward(const ForwardContext& f) {
  hybrid_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                       const float* next_norm) {
    blocks::moe_mlp(f, r, f32(L.ffn_norm), blocks::moe_weights(L), MoeRouting::kSoftmaxTopK,
                    next_norm);
  });
}

}  // namespace

const ArchSpec& qwen35_arch() {
  static const ArchSpec spec{
      .name = "qwen35",
      .hf_architectures = {"Qwen3_5ForCausalLM", "Qwen3_5ForConditionalGeneration"},
      .hf_model_types = {"qwen3_5_text", "qwen3_5"},
      .gguf_architectures = {"qwen35"},
      .default_rope_theta = 10000000.0f,
      .qk_norm = true,
      .norms_offset_one = true,  // Hugging Face files store (w - 1); llama.cpp adds the 1
      .hybrid = true,
      .gguf_linear_heads_tiled = true,
      .forward = qwen35_forward,
  };
  return spec;
}

const ArchSpec& qwen35moe_arch() {
  static const ArchSpec spec{
      .name = "qwen35moe",
      .hf_architectures = {"Qwen3_5MoeForCausalLM", "Qwen3_5MoeForConditionalGeneration"},
      .hf_model_types = {"qwen3_5_moe_text", "qwen3_5_moe"},
      .gguf_architectures = {"qwen35moe"},
      .default_rope_theta = 10000000.0f,
      .qk_norm = true,
      .moe = true,
      .norms_offset_one = true,
      .hybrid = true,
      .gguf_linear_heads_tiled = true,
      .forward = qwen35moe_forward,
  };
  return spec;
}

const ArchSpec& qwen3next_arch() {
  static const ArchSpec spec{
      .name = "qwen3next",
      .hf_architectures = {"Qwen3NextForCausalLM"},
      .hf_model_types = {"qwen3_next"},
      .gguf_architectures = {"qwen3next"},
      .default_rope_theta = 10000000.0f,
      .qk_norm = true,
      .moe = true,
      .norms_offset_one = true,
      .hybrid = true,
      .gguf_linear_heads_tiled = false,
      .hf_fused_linear = true,
      .forward = qwen35moe_forward,
  };
  return spec;
}

}  // namespace sluice
