#pragma once
// SigLIP's vision transformer (Gemma 3's image encoder) over VisionContext:
//   x = patches . patch_embed^T + patch_bias + position_embed     (the 14x14 stride-14 conv)
//   per layer: x += attn(layer_norm1(x)); x += fc2(gelu_tanh(fc1(layer_norm2(x))))
//   x = post_layernorm(x)
// Attention is bidirectional within each image, with biases on q, k, v and out.
#include "model/vision/vision_context.h"

namespace sluice {

// s.x = the encoder's last hidden states of every image's patches (after the post norm).
void siglip_encode(const VisionContext& f);

}  // namespace sluice
