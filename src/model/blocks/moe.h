#pragma once
// A mixture-of-experts MLP (SiLU-gated experts, or the clamped SwiGLU where the config has a
// swiglu_limit), added to the residual stream:
//   h = norm(x) ; ids, w = route(h . Wrouter^T (+ b))      ids, w [n, k]
//   y[t, j] = (silu(h[t] . Wgate_e^T) * (h[t] . Wup_e^T)) . Wdown_e^T,  e = ids[t, j]
//   (each product + its expert's bias row where there are biases)
//   x += sum_j w[t, j] * y[t, j]
#include "model/blocks/residual.h"
#include "model/forward_context.h"

namespace sluice::blocks {

struct MoeWeights {
  const Weight* router;                        // [experts, hidden]
  const std::vector<Weight>*gate, *up, *down;  // one per expert
  // gpt-oss: biases of the router [experts] and of each expert's projections
  // [experts, inter] x2, [experts, hidden]; null where absent.
  const float *router_bias = nullptr, *gate_bias = nullptr, *up_bias = nullptr,
              *down_bias = nullptr;
  // A shared expert (Qwen3-Next, Qwen3.5 MoE): x also gets
  // sigmoid(h . Wsg^T) * (silu(h . Wg^T) * (h . Wu^T)) . Wd^T; null: none.
  const Weight *shared_gate_proj = nullptr, *shared_up = nullptr, *shared_down = nullptr;
  const Weight* shared_gate = nullptr;  // [1, hidden]
};

MoeWeights moe_weights(const PlacedLayer& L);

// norm: this block's input norm; next_norm: the norm after it (Residual::add).
void moe_mlp(const ForwardContext& f, Residual& r, const float* norm, const MoeWeights& w,
             MoeRouting routing, const float* next_norm);

}  // namespace sluice::blocks
