#include "model/blocks/mlp.h"

namespace sluice::blocks {

void gated_mlp(const ForwardContext& f, Residual& r, const float* norm, const Weight& w_gate,
               const Weight& w_up, const Weight& w_down, const float* next_norm) {
  const StepBuffers& s = f.s;
  const Backend::Product gate_up[] = {{&w_gate, s.gate}, {&w_up, s.up}};
  r.normed_products(norm, gate_up, 2);
  r.add_gated_product(s.gate, s.up, w_gate.rows, w_down, next_norm);
}

}  // namespace sluice::blocks
