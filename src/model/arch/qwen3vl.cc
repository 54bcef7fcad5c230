// Qwen3-VL's language model as llama.cpp's converter writes it (GGUF `qwen3vl`, `qwen3vlmoe`):
// Qwen3's layers (q/k norms; dense MLP, or Qwen3 MoE's experts) with interleaved M-RoPE
// (RopeParams::interleaved_sections) and deepstack: an image token's input row carries
// D extra slices, slice k added to its residual row after layer k - 1 (blocks/deepstack.h).
//   x = embed(tokens), images' rows spliced in (first `hidden` floats of each wide row)
//   per layer l: x += attention(attn_norm(x)) ; x += mlp(ffn_norm(x)) ; x[image] += slice l + 1
//   logits = lm_head(norm(x[logit_rows]))
#include "model/arch/arch_spec.h"
#include "model/arch/llama.h"
#include "model/blocks/attention.h"
#include "model/blocks/deepstack.h"
#include "model/blocks/embedding_splice.h"
#include "model/blocks/logits.h"
#include "model/blocks/mlp.h"
#include "model/blocks/moe.h"

namespace sluice {

namespace {

void deepstack_decoder(const ForwardContext& f, MlpBlock mlp) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  const std::vector<PlacedLayer>& layers = f.w.layers;
  f.be.embedding(f.w.embed, s.tokens, s.n, s.x);  // [n, hidden]
  blocks::splice_embeddings(f);
  const bool fold = !layers.empty() && f.be.folds_norms(s.n, layers[0].wq);
  blocks::Residual r(f.be, s.x, s.h, s.n, c.hidden_size, c.rms_norm_eps, fold);
  if (!layers.empty()) r.normalize(f32(layers[0].attn_norm));
  for (size_t li = 0; li < layers.size(); ++li) {
    const PlacedLayer& L = layers[li];
    const float* next_norm = li + 1 < layers.size() ? f32(layers[li + 1].attn_norm) : nullptr;
    blocks::attention(f, r, f32(L.attn_norm), blocks::attention_weights(L),
                      f.kv.layer(static_cast<int64_t>(li)), f32(L.ffn_norm));
    const bool deepstack = blocks::deepstack_after(f, static_cast<int64_t>(li));
    mlp(f, r, L, deepstack ? nullptr : next_norm);
    if (deepstack) blocks::add_deepstack(f, r, static_cast<int64_t>(li), next_norm);
  }
  blocks::logits(f, s.x);
}

void qwen3vl_forward(const ForwardContext& f) {
  deepstack_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                          const float* next_norm) {
    blocks::gated_mlp(f, r, f32(L.ffn_norm), L.w_gate, L.w_up, L.w_down, next_norm);
  });
}

void qwen3vlmoe_forward(const ForwardContext& f) {
  deepstack_decoder(f, [](const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                          const float* next_norm) {
    blocks::moe_mlp(f, r, f32(L.ffn_norm), blocks::moe_weights(L), MoeRouting::kSoftmaxTopK,
                    next_norm);
  });
}

}  // namespace

const ArchSpec& qwen3vl_arch() {
  static const ArchSpec spec{
      .name = "qwen3vl",
      .hf_architectures = {},  // Hugging Face's Qwen3-VL directories are not read
      .hf_model_types = {},
      .gguf_architectures = {"qwen3vl"},
      .default_rope_theta = 5000000.0f,
      .attention_bias = false,
      .qk_norm = true,
      .gguf_rope_interleaved = false,
      .default_tie_word_embeddings = true,
      .mrope = true,
      .interleaved_mrope = true,
      .deepstack = true,
      .forward = qwen3vl_forward,
  };
  return spec;
}

const ArchSpec& qwen3vlmoe_arch() {
  static const ArchSpec spec{
      .name = "qwen3vlmoe",
      .hf_architectures = {},
      .hf_model_types = {},
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
      .forward = qwen3vlmoe_forward,
  };
  return spec;
}

}  // namespace sluice
