#include "model/blocks/moe.h"

namespace sluice::blocks {

MoeWeights moe_weights(const PlacedLayer& L) {
  MoeWeights w{&L.router,           &L.gate_exps,         &L.up_exps,
               &L.down_exps,        f32(L.router_bias),   f32(L.gate_exps_bias),
               f32(L.up_exps_bias), f32(L.down_exps_bias)};
  if (L.w_shexp_gate.data) {
    w.shared_gate_proj = &L.w_gate_shexp, w.shared_up = &L.w_up_shexp;
    w.shared_down = &L.w_down_shexp, w.shared_gate = &L.w_shexp_gate;
  }
  return w;
}

namespace {
// out [n, hidden] += sigmoid(h . Wsg^T) * shared_mlp(h); scratch: s.gate, s.up, s.exp_out,
// s.router.
void add_shared_expert(const ForwardContext& f, const float* h, const MoeWeights& w, float* out) {
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t n = s.n, H = f.config.hidden_size;
  const int64_t SI = f.config.shared_expert_intermediate_size;
  const Backend::Product gate_up[] = {
      {w.shared_gate_proj, s.gate}, {w.shared_up, s.up}, {w.shared_gate, s.router}};
  be.matmul_many(h, n, gate_up, 3);  // [n, SI] x2, [n, 1]
  be.silu_mul(s.gate, s.up, n * SI, s.gate);
  be.matmul(s.gate, n, *w.shared_down, s.exp_out);  // [n, hidden]
  be.sigmoid_mul(s.exp_out, s.router, n, H, 1);
  be.add(out, s.exp_out, n * H);
}
}  // namespace

void moe_mlp(const ForwardContext& f, Residual& r, const float* norm, const MoeWeights& w,
             MoeRouting routing, const float* next_norm) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t n = s.n, E = c.num_experts, K = c.num_experts_used;
  const int64_t H = c.hidden_size;
  // The router and the experts read norm(x); where products fold norms and no shared expert
  // needs it too, norm(x) is never written.
  const float* h = w.shared_gate ? r.normed(norm) : nullptr;  // [n, hidden]
  const Backend::Product router{w.router, s.router, w.router_bias};
  const Backend::ExpertProduct gate_up[2] = {{w.gate->data(), w.gate_bias, s.exp_gate},
                                             {w.up->data(), w.up_bias, s.exp_up}};
  const Backend::Routing route{s.router, routing, c.norm_topk_prob, s.expert_ids, s.expert_w};
  if (h) {
    be.matmul_many(h, n, &router, 1);  // [n, experts]
    be.moe_route(route.logits, n, E, K, route.mode, route.renormalize, route.ids, route.weights);
    be.matmul_experts_many(h, n, gate_up, 2, E, route.ids, K, s.exp_bias);  // [n*k, EI] x2
  } else {  // routed inside the experts' input pass where the backend can
    r.normed_products(norm, &router, 1);
    r.routed_experts(route, norm, gate_up, 2, E, K, s.exp_bias);
  }
  const Glu glu{c.swiglu_alpha, c.swiglu_limit};
  be.matmul_experts_glu(s.exp_gate, s.exp_up, glu, n, {w.down->data(), w.down_bias, s.exp_out}, E,
                        s.expert_ids, K, s.exp_bias);  // [n*k, hidden]
  if (!w.shared_gate) return r.add_combined(s.exp_out, s.expert_w, K, s.moe_out, next_norm);
  be.moe_combine(s.exp_out, s.expert_w, n, K, H, s.moe_out);  // [n, hidden]
  add_shared_expert(f, h, w, s.moe_out);
  r.add(s.moe_out, next_norm);
}

}  // namespace sluice::blocks
