#include "model/blocks/moe.h"

namespace sluice::blocks {

MoeWeights moe_weights(const PlacedLayer& L) {
  return MoeWeights{&L.router,           &L.gate_exps,         &L.up_exps,
                    &L.down_exps,        f32(L.router_bias),   f32(L.gate_exps_bias),
                    f32(L.up_exps_bias), f32(L.down_exps_bias)};
}

namespace {
// y[n * k, dim] += bias[ids[slot], :]: the bias rows gathered by expert id (no host sync).
void add_expert_bias(const ForwardContext& f, float* y, const float* bias, int64_t dim) {
  if (!bias) return;
  const int64_t slots = f.s.n * f.config.num_experts_used;
  f.be.gather_rows(bias, f.s.expert_ids, slots, dim, f.s.exp_bias);
  f.be.add(y, f.s.exp_bias, slots * dim);
}
}  // namespace

void moe_mlp(const ForwardContext& f, Residual& r, const float* norm, const MoeWeights& w,
             MoeRouting routing, const float* next_norm) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t n = s.n, E = c.num_experts, K = c.num_experts_used;
  const int64_t EI = c.expert_intermediate_size, H = c.hidden_size;
  const float* h = r.normed(norm);       // [n, hidden]
  be.matmul(h, n, *w.router, s.router);  // [n, experts]
  if (w.router_bias) be.add_bias(s.router, n, E, w.router_bias);
  be.moe_route(s.router, n, E, K, routing, c.norm_topk_prob, s.expert_ids, s.expert_w);
  be.matmul_experts(h, false, n, w.gate->data(), E, s.expert_ids, K, s.exp_gate);  // [n*k, EI]
  be.matmul_experts(h, false, n, w.up->data(), E, s.expert_ids, K, s.exp_up);      // [n*k, EI]
  add_expert_bias(f, s.exp_gate, w.gate_bias, EI);
  add_expert_bias(f, s.exp_up, w.up_bias, EI);
  if (c.swiglu_limit > 0.0f)
    be.swiglu_clamped(s.exp_gate, s.exp_up, n * K * EI, c.swiglu_alpha, c.swiglu_limit, s.exp_gate);
  else
    be.silu_mul(s.exp_gate, s.exp_up, n * K * EI, s.exp_gate);
  be.matmul_experts(s.exp_gate, true, n, w.down->data(), E, s.expert_ids, K, s.exp_out);
  add_expert_bias(f, s.exp_out, w.down_bias, H);
  be.moe_combine(s.exp_out, s.expert_w, n, K, H, s.moe_out);  // [n, hidden]
  r.add(s.moe_out, next_norm);
}

}  // namespace sluice::blocks
