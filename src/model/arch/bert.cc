// BERT family encoders (BertModel: all-MiniLM, bge, e5, ...): learned absolute positions and token
// types, post-norm layers with biases everywhere, exact (erf) GELU.
//   x = layer_norm(word[tokens] + position[positions] + type[type_ids])
//   per layer: x = layer_norm(x + attention(x)) ; x = layer_norm(x + mlp(x))
//   out = pool(x) per sequence (mean / CLS / last), L2-normalized where the model says
//   cross-encoders (BertForSequenceClassification): score = classifier(tanh(pooler(x[CLS])))
// Tensor names are Hugging Face's, with or without the "bert." prefix of task heads' files.
#include <cstring>

#include "model/arch/encoder_arch.h"
#include "model/blocks/encoder_layer.h"
#include "model/forward_context.h"
#include "model/load/weight_source.h"

namespace sluice {
namespace {

Weight as_vector(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return Weight::from_owned(DType::F32, 1, n, std::move(bytes));
}

Status load_bert(const WeightSource& src, const EncoderConfig& c, EncoderWeights& w) {
  const std::string p = src.has("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  auto vec = [&](const std::string& name, int64_t n, Weight& out) -> Status {
    SLUICE_ASSIGN_OR_RETURN(std::vector<float> v, src.vector(p + name, n));
    out = as_vector(std::move(v));
    return Status::ok();
  };
  auto mat = [&](const std::string& name, int64_t rows, int64_t cols, Weight& out) -> Status {
    SLUICE_ASSIGN_OR_RETURN(out, src.matrix(p + name, rows, cols));
    return Status::ok();
  };
  SLUICE_RETURN_IF_ERROR(mat("embeddings.word_embeddings.weight", c.vocab_size, H, w.word_embed));
  SLUICE_RETURN_IF_ERROR(
      mat("embeddings.position_embeddings.weight", c.max_position_embeddings, H, w.position_embed));
  SLUICE_RETURN_IF_ERROR(
      mat("embeddings.token_type_embeddings.weight", c.type_vocab_size, H, w.type_embed));
  SLUICE_RETURN_IF_ERROR(vec("embeddings.LayerNorm.weight", H, w.embed_norm_w));
  SLUICE_RETURN_IF_ERROR(vec("embeddings.LayerNorm.bias", H, w.embed_norm_b));
  w.layers.resize(c.num_layers);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string l = "encoder.layer." + std::to_string(i) + ".";
    EncoderLayerWeights& L = w.layers[i];
    const std::string self = l + "attention.self.";
    SLUICE_RETURN_IF_ERROR(mat(self + "query.weight", H, H, L.wq));
    SLUICE_RETURN_IF_ERROR(mat(self + "key.weight", H, H, L.wk));
    SLUICE_RETURN_IF_ERROR(mat(self + "value.weight", H, H, L.wv));
    SLUICE_RETURN_IF_ERROR(vec(self + "query.bias", H, L.q_bias));
    SLUICE_RETURN_IF_ERROR(vec(self + "key.bias", H, L.k_bias));
    SLUICE_RETURN_IF_ERROR(vec(self + "value.bias", H, L.v_bias));
    SLUICE_RETURN_IF_ERROR(mat(l + "attention.output.dense.weight", H, H, L.wo));
    SLUICE_RETURN_IF_ERROR(vec(l + "attention.output.dense.bias", H, L.o_bias));
    SLUICE_RETURN_IF_ERROR(vec(l + "attention.output.LayerNorm.weight", H, L.attn_norm_w));
    SLUICE_RETURN_IF_ERROR(vec(l + "attention.output.LayerNorm.bias", H, L.attn_norm_b));
    SLUICE_RETURN_IF_ERROR(mat(l + "intermediate.dense.weight", I, H, L.w_up));
    SLUICE_RETURN_IF_ERROR(vec(l + "intermediate.dense.bias", I, L.up_bias));
    SLUICE_RETURN_IF_ERROR(mat(l + "output.dense.weight", H, I, L.w_down));
    SLUICE_RETURN_IF_ERROR(vec(l + "output.dense.bias", H, L.down_bias));
    SLUICE_RETURN_IF_ERROR(vec(l + "output.LayerNorm.weight", H, L.ffn_norm_w));
    SLUICE_RETURN_IF_ERROR(vec(l + "output.LayerNorm.bias", H, L.ffn_norm_b));
  }
  if (c.head == EncoderHead::kClassifier) {  // BertForSequenceClassification's head
    SLUICE_RETURN_IF_ERROR(mat("pooler.dense.weight", H, H, w.pooler_w));
    SLUICE_RETURN_IF_ERROR(vec("pooler.dense.bias", H, w.pooler_b));
    SLUICE_ASSIGN_OR_RETURN(Weight cls, src.matrix("classifier.weight", c.num_labels, H));
    w.classifier_w.resize(static_cast<size_t>(c.num_labels * H));
    for (int64_t r = 0; r < c.num_labels; ++r) dequantize_row(cls, r, &w.classifier_w[r * H]);
    SLUICE_ASSIGN_OR_RETURN(w.classifier_b, src.vector("classifier.bias", c.num_labels));
  }
  return Status::ok();
}

void bert_forward(const EncoderContext& f) {
  const EncoderStepBuffers& s = f.s;
  const int64_t n = s.n, hidden = f.config.hidden_size;
  f.be.embedding(f.w.word_embed, s.tokens, n, s.x);
  f.be.embedding(f.w.position_embed, s.positions, n, s.h);
  f.be.add(s.x, s.h, n * hidden);
  f.be.embedding(f.w.type_embed, s.type_ids, n, s.h);
  f.be.add(s.x, s.h, n * hidden);
  f.be.layer_norm(s.x, n, hidden, f32(f.w.embed_norm_w), f32(f.w.embed_norm_b),
                  f.config.layer_norm_eps, s.x);
  for (const EncoderLayerWeights& L : f.w.layers) {
    blocks::bidirectional_self_attention(f, L);
    blocks::add_layer_norm(f, s.x, s.h, L.attn_norm_w, L.attn_norm_b);
    blocks::gelu_mlp(f, L);
    blocks::add_layer_norm(f, s.x, s.h, L.ffn_norm_w, L.ffn_norm_b);
  }
  blocks::pool(f);
}

}  // namespace

const EncoderArchSpec& bert_arch() {
  static const EncoderArchSpec spec{
      .name = "bert",
      .hf_architectures = {"BertModel", "BertForSequenceClassification"},
      .hf_model_types = {"bert"},
      .load = load_bert,
      .forward = bert_forward,
  };
  return spec;
}

}  // namespace sluice
