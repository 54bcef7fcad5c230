#pragma once
// Qwen3-VL's deepstack: after decoder layer k - 1 (k = 1..D), each image token's residual row
// gets slice k of its wide input embedding (StepBuffers::deepstack); text rows get nothing.
// Works per splice, so a step that starts or ends inside an image adds its own rows' slices.
#include <cstdint>

#include "model/blocks/residual.h"
#include "model/forward_context.h"

namespace sluice::blocks {

// Whether add_deepstack has rows to add after `layer` this step.
bool deepstack_after(const ForwardContext& f, int64_t layer);

// x[splice rows] += slice (layer + 1); then h = next_norm(x) where a later block reads h.
void add_deepstack(const ForwardContext& f, Residual& r, int64_t layer, const float* next_norm);

}  // namespace sluice::blocks
