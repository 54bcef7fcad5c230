#include "model/vision/qwen2vl_encoder.h"

#include <cmath>

#include "model/forward_context.h"
#include "model/vision/qwen2vl_merger.h"

namespace sluice {
namespace {

bool layer_norm_family(const VisionConfig& c) {
  return c.projector == ProjectorType::kQwen2VL || c.projector == ProjectorType::kQwen3VL;
}

// y = norm(x): LayerNorm with bias (Qwen2-VL, Qwen3-VL) or RMSNorm (Qwen2.5-VL).
void norm(const VisionContext& f, const float* x, const Weight& w, const Weight& b, float* y) {
  const VisionConfig& c = f.config;
  if (layer_norm_family(c))
    f.be.layer_norm(x, f.s.n, c.hidden_size, f32(w), f32(b), c.layer_norm_eps, y);
  else
    f.be.rms_norm(x, f.s.n, c.hidden_size, f32(w), c.layer_norm_eps, y);
}

// In place on q or k [n, heads, head_dim]: the row pass, then the column pass.
void rope_2d(const VisionContext& f, float* x) {
  const VisionConfig& c = f.config;
  RopeParams p;
  p.rotary_dim = c.head_dim;
  p.inv_freq = f32(f.w.rope_freq_y);
  f.be.rope(x, f.s.n, c.num_heads, c.head_dim, f.s.pos_y, p);
  p.inv_freq = f32(f.w.rope_freq_x);
  f.be.rope(x, f.s.n, c.num_heads, c.head_dim, f.s.pos_x, p);
}

void attention_block(const VisionContext& f, const VisionLayerWeights& L, bool windowed) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t n = s.n, hidden = c.hidden_size, q_dim = c.q_dim();
  norm(f, s.x, L.ln1_w, L.ln1_b, s.h);
  const Backend::Product qkv[] = {{&L.wq, s.q}, {&L.wk, s.k}, {&L.wv, s.v}};
  f.be.matmul_many(s.h, n, qkv, 3);
  f.be.add_bias(s.q, n, q_dim, f32(L.q_bias));
  f.be.add_bias(s.k, n, q_dim, f32(L.k_bias));
  f.be.add_bias(s.v, n, q_dim, f32(L.v_bias));
  rope_2d(f, s.q);
  rope_2d(f, s.k);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  f.be.bidirectional_attention(s.q, s.k, s.v, c.num_heads, c.head_dim,
                               windowed ? s.windows : s.seqs, scale, s.attn);
  f.be.matmul(s.attn, n, L.wo, s.h);
  f.be.add_bias(s.h, n, hidden, f32(L.o_bias));
  f.be.add(s.x, s.h, n * hidden);
}

// x += down(silu(gate(h)) * up(h)) (2.5), fc2(quick_gelu(fc1(h))) (2) or fc2(gelu_tanh(fc1(h)))
// (3), h = norm2(x).
void mlp_block(const VisionContext& f, const VisionLayerWeights& L) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t n = s.n, hidden = c.hidden_size, inter = c.intermediate_size;
  norm(f, s.x, L.ln2_w, L.ln2_b, s.h);
  float* act = s.inter;  // [n, inter] the activation the down projection reads
  if (c.projector == ProjectorType::kQwen3VL) {
    f.be.matmul(s.h, n, L.w_up, s.inter);
    f.be.add_bias(s.inter, n, inter, f32(L.up_bias));
    f.be.gelu_tanh(s.inter, n * inter, s.inter);
  } else if (layer_norm_family(c)) {
    f.be.matmul(s.h, n, L.w_up, s.inter);
    f.be.add_bias(s.inter, n, inter, f32(L.up_bias));
    // quick_gelu(u) = u * sigmoid(1.702 u)
    f.be.copy(s.gate, s.inter, static_cast<size_t>(n * inter) * sizeof(float));
    f.be.scale(s.gate, n * inter, 1.702f);
    f.be.sigmoid_mul(s.inter, s.gate, n, inter, inter);
  } else {
    const Backend::Product gate_up[] = {{&L.w_gate, s.gate}, {&L.w_up, s.inter}};
    f.be.matmul_many(s.h, n, gate_up, 2);
    f.be.add_bias(s.gate, n, inter, f32(L.gate_bias));
    f.be.add_bias(s.inter, n, inter, f32(L.up_bias));
    f.be.silu_mul(s.gate, s.inter, n * inter, s.gate);
    act = s.gate;
  }
  f.be.matmul(act, n, L.w_down, s.h);
  f.be.add_bias(s.h, n, hidden, f32(L.down_bias));
  f.be.add(s.x, s.h, n * hidden);
}

}  // namespace

void qwen2vl_encode(const VisionContext& f) {
  const VisionConfig& c = f.config;
  f.be.matmul(f.s.patches, f.s.n, f.s.video ? f.w.patch_embed_video : f.w.patch_embed, f.s.x);
  if (c.projector == ProjectorType::kQwen3VL) {  // conv bias, learned positions
    f.be.add_bias(f.s.x, f.s.n, c.hidden_size, f32(f.w.patch_bias));
    f.be.add(f.s.x, f.s.pos_embed, f.s.n * c.hidden_size);
  }
  size_t next_deepstack = 0;
  for (size_t i = 0; i < f.w.layers.size(); ++i) {
    attention_block(f, f.w.layers[i], c.windowed_layer(static_cast<int64_t>(i)));
    mlp_block(f, f.w.layers[i]);
    if (next_deepstack < c.deepstack_layers.size() &&
        c.deepstack_layers[next_deepstack] == static_cast<int64_t>(i))
      qwen3vl_deepstack_merge(f, next_deepstack++);
  }
}

}  // namespace sluice
