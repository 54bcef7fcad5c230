#pragma once
// The Llama decoder's forward pass. Qwen2 and Qwen3 run it too: their q/k/v biases and q/k
// norms are weights the attention block applies where they are present. Qwen3 MoE runs its layer
// loop with a mixture of experts as the MLP.
#include "model/blocks/residual.h"
#include "model/forward_context.h"

namespace sluice {

// A layer's MLP block: x += mlp(norm(x)) with L.ffn_norm, then the next layer's norm.
using MlpBlock = void (*)(const ForwardContext& f, blocks::Residual& r, const PlacedLayer& L,
                          const float* next_norm);

// embed -> per layer: x += attention(attn_norm(x)); mlp -> logits of the step's rows.
void pre_norm_decoder(const ForwardContext& f, MlpBlock mlp);

void llama_forward(const ForwardContext& f);
// pre_norm_decoder with Qwen3 MoE's experts as every MLP (qwen3moe, qwen3vlmoe).
void qwen3_moe_forward(const ForwardContext& f);

}  // namespace sluice
