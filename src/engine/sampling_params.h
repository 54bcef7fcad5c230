#pragma once
// What a request asks of sampling and stopping; validated once when the request is built, then read
// by the engine's per-request SequenceSampler and stop handling. Defaults follow the OpenAI API.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/request_error.h"

namespace sluice {

struct SamplingParams {
  float temperature = 1.0f;         // >= 0; 0 is greedy (argmax, lowest id among ties)
  float top_p = 1.0f;               // (0, 1]
  int32_t top_k = 0;                // 0 or -1: off
  float min_p = 0.0f;               // [0, 1]
  float repetition_penalty = 1.0f;  // > 0, HF semantics over prompt + output tokens
  float frequency_penalty = 0.0f;   // [-2, 2], OpenAI semantics over output tokens
  float presence_penalty = 0.0f;    // [-2, 2]
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias in [-100, 100]
  std::optional<uint64_t> seed;     // per-request RNG; none: seeded from the engine's entropy
  std::optional<int32_t> logprobs;  // none: off; k >= 0: chosen token's logprob + top k (k <= 20)
  int32_t max_tokens = 16;          // >= 1
  bool ignore_eos = false;
  std::vector<int32_t> stop_token_ids;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  int32_t n = 1;                  // >= 1 completions sharing the prompt

  // The first field out of range, e.g. {kInvalidParameter, "top_p", "top_p must be in (0, 1],
  // got 1.5"}; nullopt when every field is valid.
  std::optional<RequestError> validate(int32_t vocab_size) const;
};

}  // namespace sluice
