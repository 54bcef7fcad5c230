#include "model/vision/qwen2vl_merger.h"

#include "model/forward_context.h"

namespace sluice {

void qwen2vl_merge(const VisionContext& f) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const int64_t hidden = c.hidden_size, width = f.w.merger_fc1.cols;  // 4 * hidden
  if (c.projector == ProjectorType::kQwen2VL || c.projector == ProjectorType::kQwen3VL)
    f.be.layer_norm(s.x, s.n, hidden, f32(f.w.post_norm_w), f32(f.w.post_norm_b), c.layer_norm_eps,
                    s.h);
  else
    f.be.rms_norm(s.x, s.n, hidden, f32(f.w.post_norm_w), c.layer_norm_eps, s.h);
  f.be.matmul(s.h, s.m, f.w.merger_fc1, s.pooled);  // s.h as [m, 4 * hidden]
  f.be.add_bias(s.pooled, s.m, width, f32(f.w.merger_fc1_bias));
  f.be.gelu_erf(s.pooled, s.m * width, s.pooled);
  f.be.matmul(s.pooled, s.m, f.w.merger_fc2, s.merged);
  f.be.add_bias(s.merged, s.m, c.projection_dim, f32(f.w.merger_fc2_bias));
  // s.merged [(1 + num_deepstack) * m, projection_dim] -> s.out [m, token_width]
  f.be.gather_rows(s.merged, s.out_rows, s.m * (1 + c.num_deepstack()), c.projection_dim, s.out);
}

void qwen3vl_deepstack_merge(const VisionContext& f, size_t k) {
  const VisionStepBuffers& s = f.s;
  const VisionConfig& c = f.config;
  const DeepstackMergerWeights& d = f.w.deepstack[k];
  const int64_t width = d.fc1.cols;  // 4 * hidden
  f.be.layer_norm(s.x, s.m, width, f32(d.norm_w), f32(d.norm_b), c.layer_norm_eps, s.h);
  f.be.matmul(s.h, s.m, d.fc1, s.pooled);
  f.be.add_bias(s.pooled, s.m, width, f32(d.fc1_bias));
  f.be.gelu_erf(s.pooled, s.m * width, s.pooled);
  float* block = s.merged + static_cast<int64_t>(k + 1) * s.m * c.projection_dim;
  f.be.matmul(s.pooled, s.m, d.fc2, block);
  f.be.add_bias(block, s.m, c.projection_dim, f32(d.fc2_bias));
}

}  // namespace sluice
