#pragma once
// Minimal sampling for `sluice run` (temperature + seed); the engine's per-request Sampler
// (top-k/p, penalties, ...) comes with the engine layer.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class Model;

class Sampler {
 public:
  Sampler(float temperature, uint64_t seed) : temp_(temperature), rng_(seed) {}
  // temperature 0: argmax (lowest id among ties); else a draw from softmax(logits / T).
  int32_t sample(const std::vector<float>& logits);

 private:
  float temp_;
  std::mt19937_64 rng_;
  std::vector<double> probs_;
};

// The model's chat template applied to one user message, with the generation prompt.
Result<std::string> render_chat_prompt(const Model& model, const std::string& user_message);

}  // namespace sluice
