#include "model/blocks/logits.h"

namespace sluice::blocks {

void logits(const ForwardContext& f, const float* x) {
  const ModelConfig& c = f.config;
  const StepBuffers& s = f.s;
  Backend& be = f.be;
  const int64_t H = c.hidden_size;
  be.gather_rows(x, s.rows, s.m, H, s.last);
  if (be.folds_norms(s.m, f.w.lm_head)) {  // s.last is scratch for the plain path
    const Backend::Product out{&f.w.lm_head, s.logits};
    return be.matmul_many_normed(s.last, s.m, f32(f.w.final_norm), c.rms_norm_eps, s.last, &out, 1);
  }
  be.rms_norm(s.last, s.m, H, f32(f.w.final_norm), c.rms_norm_eps, s.last);
  be.matmul(s.last, s.m, f.w.lm_head, s.logits);
}

}  // namespace sluice::blocks
