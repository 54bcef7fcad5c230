#pragma once
// The SiLU-gated MLP, added to the residual stream:
//   x += (silu(norm(x) . Wgate^T) * (norm(x) . Wup^T)) . Wdown^T
#include "model/blocks/residual.h"
#include "model/forward_context.h"

namespace sluice::blocks {

// norm: this block's input norm; next_norm: the norm after it (Residual::add_product).
void gated_mlp(const ForwardContext& f, Residual& r, const float* norm, const Weight& w_gate,
               const Weight& w_up, const Weight& w_down, const float* next_norm);

}  // namespace sluice::blocks
