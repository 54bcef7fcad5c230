#include "cli/sampling.h"

#include <algorithm>
#include <cmath>

#include "model/model.h"

namespace sluice {

int32_t Sampler::sample(const std::vector<float>& logits) {
  const auto best = std::max_element(logits.begin(), logits.end());
  if (temp_ == 0.0f) return static_cast<int32_t>(best - logits.begin());
  probs_.resize(logits.size());
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probs_[i] = std::exp((static_cast<double>(logits[i]) - *best) / temp_);
    total += probs_[i];
  }
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (size_t i = 0; i < probs_.size(); ++i) {
    r -= probs_[i];
    if (r <= 0.0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(best - logits.begin());
}

Result<std::string> render_chat_prompt(const Model& model, const std::string& user_message) {
  return Status::error("chat", "--chat needs the chat-template interpreter, which is not built yet");
}

}  // namespace sluice
