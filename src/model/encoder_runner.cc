#include "model/encoder_runner.h"

#include "common/assert.h"
#include "model/arch/encoder_arch.h"
#include "model/blocks/classifier_head.h"

namespace sluice {

EncoderRunner::EncoderRunner(const EncoderModel& model, Backend& be)
    : model_(model),
      be_(be),
      x_(be),
      h_(be),
      q_(be),
      k_(be),
      v_(be),
      attn_(be),
      inter_(be),
      pooled_(be),
      tokens_(be),
      positions_(be),
      type_ids_(be),
      query_start_(be) {
  const EncoderWeights& src = model.weights();
  w_.word_embed = be.place(src.word_embed);
  w_.position_embed = be.place(src.position_embed);
  w_.type_embed = be.place(src.type_embed);
  w_.embed_norm_w = be.place(src.embed_norm_w);
  w_.embed_norm_b = be.place(src.embed_norm_b);
  for (const EncoderLayerWeights& L : src.layers) {
    EncoderLayerWeights& P = w_.layers.emplace_back();
    for (auto m :
         {&EncoderLayerWeights::wq, &EncoderLayerWeights::wk, &EncoderLayerWeights::wv,
          &EncoderLayerWeights::wo, &EncoderLayerWeights::q_bias, &EncoderLayerWeights::k_bias,
          &EncoderLayerWeights::v_bias, &EncoderLayerWeights::o_bias,
          &EncoderLayerWeights::attn_norm_w, &EncoderLayerWeights::attn_norm_b,
          &EncoderLayerWeights::w_up, &EncoderLayerWeights::up_bias, &EncoderLayerWeights::w_down,
          &EncoderLayerWeights::down_bias, &EncoderLayerWeights::ffn_norm_w,
          &EncoderLayerWeights::ffn_norm_b})
      P.*m = be.place(L.*m);
  }
  if (model.config().head == EncoderHead::kClassifier) {
    w_.pooler_w = be.place(src.pooler_w);
    w_.pooler_b = be.place(src.pooler_b);
    w_.classifier_w = src.classifier_w;
    w_.classifier_b = src.classifier_b;
  }
}

std::vector<float> EncoderRunner::embed(const std::vector<const EncoderSequence*>& seqs) {
  const EncoderConfig& c = model_.config();
  const int64_t hidden = c.hidden_size;
  std::vector<int32_t> tokens, positions, type_ids, query_start{0};
  int64_t max_len = 0;
  for (const EncoderSequence* s : seqs) {
    const int64_t len = static_cast<int64_t>(s->ids.size());
    SLUICE_ASSERT(len > 0 && len <= c.max_position_embeddings, "encoder sequence length");
    SLUICE_ASSERT(s->type_ids.empty() || s->type_ids.size() == s->ids.size(), "type ids");
    for (int64_t i = 0; i < len; ++i) {
      SLUICE_ASSERT(s->ids[i] >= 0 && s->ids[i] < c.vocab_size, "token id out of range");
      const int32_t type = s->type_ids.empty() ? 0 : s->type_ids[i];
      SLUICE_ASSERT(type >= 0 && type < c.type_vocab_size, "token type id out of range");
      tokens.push_back(s->ids[i]);
      positions.push_back(static_cast<int32_t>(i));
      type_ids.push_back(type);
    }
    query_start.push_back(static_cast<int32_t>(tokens.size()));
    max_len = std::max(max_len, len);
  }
  const int64_t n = static_cast<int64_t>(tokens.size()), m = static_cast<int64_t>(seqs.size());
  if (m == 0) return {};
  EncoderStepBuffers s;
  s.n = n;
  s.tokens = tokens_.upload(tokens);
  s.positions = positions_.upload(positions);
  s.type_ids = type_ids_.upload(type_ids);
  s.seqs = SequenceBatch{m, n, max_len, query_start_.upload(query_start), query_start.data()};
  s.x = x_.reserve(n * hidden);
  s.h = h_.reserve(n * hidden);
  s.q = q_.reserve(n * hidden);
  s.k = k_.reserve(n * hidden);
  s.v = v_.reserve(n * hidden);
  s.attn = attn_.reserve(n * hidden);
  s.inter = inter_.reserve(n * c.intermediate_size);
  s.pooled = pooled_.reserve(m * hidden);
  const EncoderContext ctx{be_, c, w_, s};
  c.arch->forward(ctx);
  if (c.head == EncoderHead::kClassifier) return blocks::classify(ctx);
  std::vector<float> out(static_cast<size_t>(m * hidden));
  be_.to_host(out.data(), s.pooled, out.size() * sizeof(float));
  return out;
}

}  // namespace sluice
