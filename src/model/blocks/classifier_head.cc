#include "model/blocks/classifier_head.h"

#include <cmath>

#include "model/forward_context.h"

namespace sluice::blocks {

std::vector<float> classify(const EncoderContext& f) {
  const EncoderStepBuffers& s = f.s;
  const EncoderConfig& c = f.config;
  const int64_t m = s.seqs.num_seqs, hidden = c.hidden_size, labels = c.num_labels;
  f.be.matmul(s.pooled, m, f.w.pooler_w, s.h);  // [m, hidden]
  f.be.add_bias(s.h, m, hidden, f32(f.w.pooler_b));
  std::vector<float> pooled(static_cast<size_t>(m * hidden));
  f.be.to_host(pooled.data(), s.h, pooled.size() * sizeof(float));
  std::vector<float> out(static_cast<size_t>(m * labels));  // [m, labels]
  for (int64_t i = 0; i < m; ++i) {
    const float* row = &pooled[i * hidden];
    for (int64_t l = 0; l < labels; ++l) {
      const float* w = &f.w.classifier_w[l * hidden];
      double logit = f.w.classifier_b[l];
      for (int64_t k = 0; k < hidden; ++k) logit += std::tanh(static_cast<double>(row[k])) * w[k];
      out[i * labels + l] =
          static_cast<float>(c.score_sigmoid ? 1.0 / (1.0 + std::exp(-logit)) : logit);
    }
  }
  return out;
}

}  // namespace sluice::blocks
