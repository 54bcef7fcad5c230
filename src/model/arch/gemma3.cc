// Gemma 3 (text): the embedding scaled by sqrt(hidden); per block four RMSNorms (before and after
// attention, before and after the MLP); per-head q/k norms; GeGLU (tanh gelu); five local layers
// (sliding window, RoPE base 10k) to one global (the model's base, with its scaling); tied head.
//   x = embed(tokens) * sqrt(hidden)
//   per layer: x += post_attn_norm(attention(attn_norm(x)))
//              x += post_ffn_norm(down(gelu(gate(ffn_norm(x))) * up(ffn_norm(x))))
//   logits = lm_head(norm(x[logit_rows]))
#include <cmath>

#include "model/arch/arch_spec.h"
#include "model/blocks/attention.h"
#include "model/blocks/embedding_splice.h"
#include "model/blocks/logits.h"

namespace sluice {

namespace {

void gemma3_forward(const ForwardContext& f) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t n = s.n, H = c.hidden_size, I = c.intermediate_size;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  be.embedding(f.w.embed, s.tokens, n, s.x);
  be.scale(s.x, n * H, std::sqrt(static_cast<float>(H)));
  blocks::splice_embeddings(f);  // images' soft tokens, unscaled
  const bool fold = !layers.empty() && be.folds_norms(n, layers[0].wq);
  blocks::Residual r(be, s.x, s.h, n, H, c.rms_norm_eps, fold);
  if (!layers.empty()) r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    KvLayerView cache = f.kv.layer(static_cast<int64_t>(li));
    blocks::AttentionOptions o{.scale = c.query_scale};
    if (c.is_sliding(static_cast<int64_t>(li))) {
      cache.window = c.sliding_window;
      o.inv_freq = f32(f.w.inv_freq_local), o.theta = c.rope_theta_local;
    }
    blocks::attend(f, r, f32(L.attn_norm), blocks::attention_weights(L), cache, o);
    be.matmul(s.attn, n, L.wo, s.h);  // [n, hidden]; h is free once q/k/v are made
    r.add_normed(s.h, f32(L.post_attn_norm), f32(L.ffn_norm));
    const Backend::Product gate_up[] = {{&L.w_gate, s.gate}, {&L.w_up, s.up}};
    r.normed_products(f32(L.ffn_norm), gate_up, 2);
    be.gelu_mul(s.gate, s.up, n * I, s.gate);
    be.matmul(s.gate, n, L.w_down, s.h);
    r.add_normed(s.h, f32(L.post_ffn_norm), next_norm);
  }
  blocks::logits(f, s.x);
}

}  // namespace

const ArchSpec& gemma3_arch() {
  static const ArchSpec spec{
      .name = "gemma3",
      // Gemma3ForConditionalGeneration: the language model of Gemma 3 4B and up.
      .hf_architectures = {"Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"},
      .hf_model_types = {"gemma3_text", "gemma3"},
      .gguf_architectures = {"gemma3"},
      .default_rope_theta = 1000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = true,
      .sliding_window_layers = true,
      .norms_offset_one = true,
      .forward = gemma3_forward,
  };
  return spec;
}

}  // namespace sluice
