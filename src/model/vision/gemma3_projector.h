#pragma once
// The Gemma 3 multimodal projector (Gemma3MultiModalProjector) over VisionContext:
//   pooled = avg_pool(patch grid, pool_kernel x pool_kernel)   64x64 patches -> 16x16 tokens
//   out = rms_norm(pooled) * soft_emb_norm . input_projection   (the norm's weight stored as 1 + w)
#include "model/vision/vision_context.h"

namespace sluice {

// s.out = each image's soft tokens from the encoder's s.x.
void gemma3_project(const VisionContext& f);

}  // namespace sluice
