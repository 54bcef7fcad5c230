#include "model/blocks/encoder_layer.h"

#include <cmath>

#include "model/forward_context.h"

namespace sluice::blocks {

void add_layer_norm(const EncoderContext& f, float* x, const float* y, const Weight& w,
                    const Weight& b) {
  const int64_t n = f.s.n, hidden = f.config.hidden_size;
  f.be.add(x, y, n * hidden);
  f.be.layer_norm(x, n, hidden, f32(w), f32(b), f.config.layer_norm_eps, x);
}

void bidirectional_self_attention(const EncoderContext& f, const EncoderLayerWeights& L) {
  const EncoderStepBuffers& s = f.s;
  const EncoderConfig& c = f.config;
  const int64_t n = s.n, hidden = c.hidden_size;
  const Backend::Product qkv[] = {{&L.wq, s.q}, {&L.wk, s.k}, {&L.wv, s.v}};
  f.be.matmul_many(s.x, n, qkv, 3);
  f.be.add_bias(s.q, n, hidden, f32(L.q_bias));
  f.be.add_bias(s.k, n, hidden, f32(L.k_bias));
  f.be.add_bias(s.v, n, hidden, f32(L.v_bias));
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  f.be.bidirectional_attention(s.q, s.k, s.v, c.num_heads, c.head_dim, s.seqs, scale, s.attn);
  f.be.matmul(s.attn, n, L.wo, s.h);
  f.be.add_bias(s.h, n, hidden, f32(L.o_bias));
}

void gelu_mlp(const EncoderContext& f, const EncoderLayerWeights& L) {
  const EncoderStepBuffers& s = f.s;
  const int64_t n = s.n;
  f.be.matmul(s.x, n, L.w_up, s.inter);
  f.be.add_bias(s.inter, n, L.w_up.rows, f32(L.up_bias));
  f.be.gelu_erf(s.inter, n * L.w_up.rows, s.inter);
  f.be.matmul(s.inter, n, L.w_down, s.h);
  f.be.add_bias(s.h, n, L.w_down.rows, f32(L.down_bias));
}

void pool(const EncoderContext& f) {
  const EncoderStepBuffers& s = f.s;
  const int64_t hidden = f.config.hidden_size;
  f.be.pool_rows(s.x, hidden, s.seqs, f.config.pooling, s.pooled);
  if (f.config.normalize) f.be.l2_normalize(s.pooled, s.seqs.num_seqs, hidden);
}

}  // namespace sluice::blocks
