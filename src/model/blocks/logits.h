#pragma once
// The head: logits[m, vocab] = lm_head(final_norm(x[rows])); only the step's logit rows go
// through the final norm and the vocabulary projection.
#include "model/forward_context.h"

namespace sluice::blocks {

void logits(const ForwardContext& f, const float* x);

}  // namespace sluice::blocks
