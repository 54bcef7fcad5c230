#pragma once
// Qwen2-VL's, Qwen2.5-VL's and Qwen3-VL's patch mergers (Qwen2VLPatchMerger,
// Qwen2_5_VLPatchMerger, Qwen3VLVisionPatchMerger) over VisionContext:
//   h = ln_q(x)                       RMSNorm (2.5) or LayerNorm (2, 3), per patch row (v.post_ln)
//   h = h viewed as [m, 4 * hidden]    each 2x2 unit's rows side by side
//   merged = mlp.2(gelu(mlp.0(h)))     with biases; exact (erf) GELU as torch's nn.GELU
// Qwen3-VL's DeepStack mergers take a layer's output: h = x viewed as [m, 4 * hidden], then
// LayerNorm over the 4 * hidden features and the same MLP shape (v.deepstack.N.*).
// s.merged holds 1 + num_deepstack blocks [m, projection_dim]: the main merger's, then each
// DeepStack merger's; out = each token's rows of every block side by side, tokens in raster
// order of the units (s.out_rows, VisionTower).
#include <cstddef>

#include "model/vision/vision_context.h"

namespace sluice {

// s.out = every image's tokens from the encoder's s.x (and Qwen3-VL's DeepStack blocks).
void qwen2vl_merge(const VisionContext& f);

// Block k + 1 of s.merged from s.x, the output of layer config.deepstack_layers[k].
void qwen3vl_deepstack_merge(const VisionContext& f, size_t k);

}  // namespace sluice
