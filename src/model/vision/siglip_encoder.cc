#include "model/vision/siglip_encoder.h"

#include <cmath>

#include "model/forward_context.h"

namespace sluice {
namespace {

void embed_patches(const VisionContext& f) {
  const VisionStepBuffers& s = f.s;
  const int64_t hidden = f.config.hidden_size, per_image = f.config.num_patches() * hidden;
  f.be.matmul(s.patches, s.n, f.w.patch_embed, s.x);
  f.be.add_bias(s.x, s.n, hidden, f32(f.w.patch_bias));
  for (int64_t i = 0; i < s.num_images; ++i)
    f.be.add(s.x + i * per_image, f32(f.w.position_embed), per_image);
}

// x += (bidirectional attention over each image of (h Wq + bq, h Wk + bk, h Wv + bv)) Wo + bo,
// h = layer_norm1(x).
void attention_block(const VisionContext& f, const VisionLayerWeights& L) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t n = s.n, hidden = c.hidden_size, q_dim = c.q_dim();
  f.be.layer_norm(s.x, n, hidden, f32(L.ln1_w), f32(L.ln1_b), c.layer_norm_eps, s.h);
  const Backend::Product qkv[] = {{&L.wq, s.q}, {&L.wk, s.k}, {&L.wv, s.v}};
  f.be.matmul_many(s.h, n, qkv, 3);
  f.be.add_bias(s.q, n, q_dim, f32(L.q_bias));
  f.be.add_bias(s.k, n, q_dim, f32(L.k_bias));
  f.be.add_bias(s.v, n, q_dim, f32(L.v_bias));
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  f.be.bidirectional_attention(s.q, s.k, s.v, c.num_heads, c.head_dim, s.seqs, scale, s.attn);
  f.be.matmul(s.attn, n, L.wo, s.h);
  f.be.add_bias(s.h, n, hidden, f32(L.o_bias));
  f.be.add(s.x, s.h, n * hidden);
}

// x += fc2(gelu_tanh(fc1(layer_norm2(x)))), with biases.
void siglip_mlp_block(const VisionContext& f, const VisionLayerWeights& L) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t n = s.n, hidden = c.hidden_size, inter = c.intermediate_size;
  f.be.layer_norm(s.x, n, hidden, f32(L.ln2_w), f32(L.ln2_b), c.layer_norm_eps, s.h);
  f.be.matmul(s.h, n, L.w_up, s.inter);
  f.be.add_bias(s.inter, n, inter, f32(L.up_bias));
  f.be.gelu_tanh(s.inter, n * inter, s.inter);
  f.be.matmul(s.inter, n, L.w_down, s.h);
  f.be.add_bias(s.h, n, hidden, f32(L.down_bias));
  f.be.add(s.x, s.h, n * hidden);
}

}  // namespace

void siglip_encode(const VisionContext& f) {
  embed_patches(f);
  for (const VisionLayerWeights& L : f.w.layers) {
    attention_block(f, L);
    siglip_mlp_block(f, L);
  }
  const VisionConfig& c = f.config;
  f.be.layer_norm(f.s.x, f.s.n, c.hidden_size, f32(f.w.post_norm_w), f32(f.w.post_norm_b),
                  c.layer_norm_eps, f.s.x);
}

}  // namespace sluice
