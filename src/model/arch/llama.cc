// Llama family: Llama 2/3.x (with llama3 RoPE scaling), SmolLM/SmolLM2, Mistral-style dense models.
// Pre-norm decoder, GQA, RoPE, SiLU-gated MLP, no biases (unless config.json asks for them).
//   x = embed(tokens), images' soft tokens spliced in (Qwen2-VL, Qwen3-VL)
//   per layer: x += attention(attn_norm(x)) ; x += mlp(ffn_norm(x))
//   logits = lm_head(norm(x[logit_rows]))
#include "model/arch/llama.h"

#include "model/arch/arch_spec.h"
#include "model/blocks/attention.h"
#include "model/blocks/deepstack.h"
#include "model/blocks/embedding_splice.h"
#include "model/blocks/logits.h"
#include "model/blocks/mlp.h"

namespace sluice {

void pre_norm_decoder(const ForwardContext& f, MlpBlock mlp) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  f.be.embedding(f.w.embed, s.tokens, s.n, s.x);
  blocks::splice_embeddings(f);  // none unless the step runs an image's tokens
  const bool fold = !layers.empty() && f.be.folds_norms(s.n, layers[0].wq);
  blocks::Residual r(f.be, s.x, s.h, s.n, c.hidden_size, c.rms_norm_eps, fold);
  if (!layers.empty()) r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    blocks::attention(f, r, f32(L.attn_norm), blocks::attention_weights(L),
                      f.kv.layer(static_cast<int64_t>(li)), f32(L.ffn_norm));
    // Qwen3-VL's deepstack: image rows get a slice of their input after the first layers.
    const bool deepstack = blocks::deepstack_after(f, static_cast<int64_t>(li));
    mlp(f, r, L, deepstack ? nullptr : next_norm);
    if (deepstack) blocks::add_deepstack(f, r, static_cast<int64_t>(li), next_norm);
  }
  blocks::logits(f, s.x);
}

void llama_forward(const ForwardContext& f) {
  pre_norm_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                         const float* next_norm) {
    blocks::gated_mlp(f, r, f32(L.ffn_norm), L.w_gate, L.w_up, L.w_down, next_norm);
  });
}

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
      .forward = llama_forward,
  };
  return spec;
}

}  // namespace sluice
