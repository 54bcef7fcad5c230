#pragma once
// Qwen2-VL's and Qwen2.5-VL's patch merger (Qwen2VLPatchMerger / Qwen2_5_VLPatchMerger) over
// VisionContext:
//   h = ln_q(x)                       RMSNorm (2.5) or LayerNorm (2), per patch row (v.post_ln)
//   h = h viewed as [n / 4, 4 * hidden]   each 2x2 unit's rows side by side
//   merged = mlp.2(gelu(mlp.0(h)))     with biases; exact (erf) GELU as torch's nn.GELU
//   out = merged rows in raster order of the units (token_rows)
#include "model/vision/vision_context.h"

namespace sluice {

// s.out = every image's tokens from the encoder's s.x.
void qwen2vl_merge(const VisionContext& f);

}  // namespace sluice
