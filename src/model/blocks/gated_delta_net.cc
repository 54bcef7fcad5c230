#include "model/blocks/gated_delta_net.h"

namespace sluice::blocks {

DeltaNetWeights delta_net_weights(const PlacedLayer& L) {
  return DeltaNetWeights{&L.lin_qkv,       &L.lin_z,           &L.lin_b,
                         &L.lin_a,         &L.lin_out,         f32(L.lin_conv),
                         f32(L.lin_a_neg), f32(L.lin_dt_bias), f32(L.lin_norm)};
}

DeltaNetShape delta_net_shape(const ModelConfig& c) {
  DeltaNetShape d;
  d.num_k_heads = c.linear_num_k_heads, d.num_v_heads = c.linear_num_v_heads;
  d.head_k_dim = c.linear_head_k_dim, d.head_v_dim = c.linear_head_v_dim;
  d.heads_tiled = c.linear_heads_tiled;
  d.eps = c.rms_norm_eps;  // as llama.cpp (Hugging Face: 1e-6, the usual rms_norm_eps)
  return d;
}

void gated_delta_net(const ForwardContext& f, Residual& r, const float* norm,
                     const DeltaNetWeights& w, const RecurrentLayerView& state,
                     const float* next_norm) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const DeltaNetShape shape = delta_net_shape(c);
  const int64_t n = s.n, C = shape.qkv_dim(), Hv = shape.num_v_heads, dv = shape.head_v_dim;
  const Backend::Product in[] = {
      {w.qkv, s.lin_qkv}, {w.z, s.lin_z}, {w.b, s.lin_b}, {w.a, s.lin_a}};
  r.normed_products(norm, in, 4);
  be.causal_conv1d_silu(s.lin_qkv, C, w.conv, c.linear_conv_kernel, state.conv, s.rb,
                        s.lin_conv);  // [n, C]
  be.gated_delta_rule(s.lin_conv, s.lin_a, s.lin_b, w.a_neg, w.dt_bias, shape, state.ssm, s.rb,
                      s.lin_core);  // [n, Hv, dv]
  be.rms_norm(s.lin_core, n * Hv, dv, w.norm, c.rms_norm_eps, s.lin_core);
  be.silu_mul(s.lin_z, s.lin_core, n * Hv * dv, s.lin_core);  // silu(z) * normed
  r.add_product(s.lin_core, *w.out, next_norm);
}

}  // namespace sluice::blocks
