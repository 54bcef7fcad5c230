#include "model/vision/gemma3_projector.h"

#include "model/forward_context.h"

namespace sluice {

void gemma3_project(const VisionContext& f) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t side = c.patches_per_side(), hidden = c.hidden_size;
  const int64_t tokens = c.tokens_per_image(), m = s.num_images * tokens;
  for (int64_t i = 0; i < s.num_images; ++i)
    f.be.avg_pool_2d(s.x + i * c.num_patches() * hidden, side, side, hidden, c.pool_kernel,
                     s.pooled + i * tokens * hidden);
  f.be.rms_norm(s.pooled, m, hidden, f32(f.w.soft_emb_norm), c.layer_norm_eps, s.pooled);
  f.be.matmul(s.pooled, m, f.w.input_projection, s.out);
}

}  // namespace sluice
