#pragma once
// Images' soft tokens into the step's input embeddings: each splice's rows of s.x are replaced
// by its host rows (after any scaling of token embeddings, which soft tokens do not get).
#include "model/forward_context.h"

namespace sluice::blocks {

void splice_embeddings(const ForwardContext& f);

}  // namespace sluice::blocks
