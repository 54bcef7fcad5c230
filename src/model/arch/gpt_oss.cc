// gpt-oss (20b, 120b): a pre-norm decoder whose layers alternate a 128-token sliding window
// and full attention, both with attention sinks (a learned logit per head in the softmax's
// denominator) and biases on every projection; YaRN RoPE; a mixture of experts routed top-k
// then softmax, with router and expert biases and the clamped SwiGLU.
//   per layer: x += attention(attn_norm(x)) . Wo^T + bo ; x += moe(ffn_norm(x))
//   logits = lm_head(norm(x[logit_rows]))
#include "model/arch/arch_spec.h"
#include "model/blocks/attention.h"
#include "model/blocks/logits.h"
#include "model/blocks/moe.h"

namespace sluice {

namespace {

void gpt_oss_forward(const ForwardContext& f) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t n = s.n, H = c.hidden_size;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  be.embedding(f.w.embed, s.tokens, n, s.x);
  const bool fold = !layers.empty() && be.folds_norms(n, layers[0].wq);
  blocks::Residual r(be, s.x, s.h, n, H, c.rms_norm_eps, fold);
  if (!layers.empty()) r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    KvLayerView cache = f.kv.layer(static_cast<int64_t>(li));
    cache.sinks = f32(L.sinks);
    if (c.is_sliding(static_cast<int64_t>(li))) cache.window = c.sliding_window;
    blocks::attend(f, r, f32(L.attn_norm), blocks::attention_weights(L), cache,
                   {.scale = c.attention_scale()});
    r.add_product(s.attn, L.wo, f32(L.ffn_norm), f32(L.o_bias));  // x += attn . Wo^T + bo
    blocks::moe_mlp(f, r, f32(L.ffn_norm), blocks::moe_weights(L), MoeRouting::kTopKSoftmax,
                    next_norm);
  }
  blocks::logits(f, s.x);
}

}  // namespace

const ArchSpec& gpt_oss_arch() {
  static const ArchSpec spec{
      .name = "gpt-oss",
      .hf_architectures = {"GptOssForCausalLM"},
      .hf_model_types = {"gpt_oss"},
      .gguf_architectures = {"gpt-oss"},
      .default_rope_theta = 150000.0f,
      .attention_bias = true,
      .qk_norm = false,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = false,
      .moe = true,
      .forward = gpt_oss_forward,
  };
  return spec;
}

}  // namespace sluice
