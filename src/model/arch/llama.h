#pragma once
// The Llama decoder's forward pass. Qwen2 and Qwen3 run it too: their q/k/v biases and q/k
// norms are weights the attention block applies where they are present.
#include "model/forward_context.h"

namespace sluice {

void llama_forward(const ForwardContext& f);

}  // namespace sluice
