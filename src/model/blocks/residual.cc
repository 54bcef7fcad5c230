#include "model/blocks/residual.h"

namespace sluice::blocks {

void Residual::normalize(const float* norm) {
  if (!fold_) be_.rms_norm(x_, n_, hidden_, norm, eps_, h_);
}

void Residual::normed_products(const float* norm, const Backend::Product* ps, int count) {
  if (fold_)
    be_.matmul_many_normed(x_, n_, norm, eps_, h_, ps, count);
  else
    be_.matmul_many(h_, n_, ps, count);
}

void Residual::add_product(const float* in, const Weight& w, const float* next_norm,
                           const float* bias) {
  if (fold_) return be_.matmul_add(in, n_, w, bias, x_, h_);
  const Backend::Product p{&w, h_, bias};
  be_.matmul_many(in, n_, &p, 1);
  add_then_norm(next_norm);
}

void Residual::add_gated_product(float* gate, const float* up, int64_t inter, const Weight& w_down,
                                 const float* next_norm) {
  if (fold_) return be_.matmul_add_gated(gate, up, n_, w_down, x_, h_);
  be_.silu_mul(gate, up, n_ * inter, gate);
  be_.matmul(gate, n_, w_down, h_);
  add_then_norm(next_norm);
}

void Residual::routed_experts(const Backend::Routing& route, const float* norm,
                              const Backend::ExpertProduct* ps, int count, int64_t num_experts,
                              int64_t k, float* scratch) {
  if (fold_)
    return be_.route_experts_many_normed(route, x_, n_, norm, eps_, h_, ps, count, num_experts, k,
                                         scratch);
  be_.moe_route(route.logits, n_, num_experts, k, route.mode, route.renormalize, route.ids,
                route.weights);
  be_.matmul_experts_many(h_, n_, ps, count, num_experts, route.ids, k, scratch);
}

const float* Residual::normed(const float* norm) {
  if (fold_) be_.rms_norm(x_, n_, hidden_, norm, eps_, h_);  // else h already holds it
  return h_;
}

void Residual::add(const float* y, const float* next_norm) {
  if (fold_ || !next_norm) return be_.add(x_, y, n_ * hidden_);
  be_.add_rms_norm(x_, y, n_, hidden_, next_norm, eps_, h_);
}

void Residual::add_normed(float* y, const float* y_norm, const float* next_norm) {
  be_.add_normed_rms_norm(x_, y, y_norm, n_, hidden_, fold_ ? nullptr : next_norm, eps_, h_);
}

void Residual::add_combined(const float* y, const float* weights, int64_t k, float* scratch,
                            const float* next_norm) {
  if (fold_ || !next_norm) return be_.moe_combine(y, weights, n_, k, hidden_, x_, true);
  be_.moe_combine(y, weights, n_, k, hidden_, scratch);
  add(scratch, next_norm);
}

void Residual::add_then_norm(const float* next_norm) {
  if (next_norm)
    be_.add_rms_norm(x_, h_, n_, hidden_, next_norm, eps_, h_);
  else
    be_.add(x_, h_, n_ * hidden_);
}

}  // namespace sluice::blocks
