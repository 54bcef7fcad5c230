#include "engine/sampling_params.h"

#include <cmath>
#include <sstream>

namespace sluice {
namespace {

constexpr int32_t kMaxLogprobs = 20;
constexpr int32_t kMaxN = 128;
constexpr size_t kMaxStopStrings = 16;
constexpr float kMaxBias = 100.0f;
constexpr float kMaxPenalty = 2.0f;

// Shortest round-trip-ish text for a float in an error message ("1.5", "nan", "-inf").
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

RequestError bad(const char* param, const std::string& what) {
  return RequestError::invalid(param, what);
}

// NaN fails every comparison, so each bound is written as "!(in range)".
bool in_closed(float v, float lo, float hi) {
  return v >= lo && v <= hi;
}

}  // namespace

std::optional<RequestError> SamplingParams::validate(int32_t vocab_size) const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    return bad("temperature", "temperature must be a finite number >= 0, got " + num(temperature));
  if (!(top_p > 0.0f && top_p <= 1.0f))
    return bad("top_p", "top_p must be in (0, 1], got " + num(top_p));
  if (top_k < -1)
    return bad("top_k", "top_k must be -1, 0 (off) or >= 1, got " + std::to_string(top_k));
  if (!in_closed(min_p, 0.0f, 1.0f))
    return bad("min_p", "min_p must be in [0, 1], got " + num(min_p));
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    return bad("repetition_penalty",
               "repetition_penalty must be a finite number > 0, got " + num(repetition_penalty));
  if (!in_closed(frequency_penalty, -kMaxPenalty, kMaxPenalty))
    return bad("frequency_penalty",
               "frequency_penalty must be in [-2, 2], got " + num(frequency_penalty));
  if (!in_closed(presence_penalty, -kMaxPenalty, kMaxPenalty))
    return bad("presence_penalty",
               "presence_penalty must be in [-2, 2], got " + num(presence_penalty));
  for (const auto& [id, bias] : logit_bias) {
    if (id < 0 || id >= vocab_size)
      return bad("logit_bias", "logit_bias token id " + std::to_string(id) +
                                   " is out of range [0, " + std::to_string(vocab_size) + ")");
    if (!in_closed(bias, -kMaxBias, kMaxBias))
      return bad("logit_bias", "logit_bias value for token " + std::to_string(id) +
                                   " must be in [-100, 100], got " + num(bias));
  }
  if (logprobs && (*logprobs < 0 || *logprobs > kMaxLogprobs))
    return bad("logprobs", "logprobs must be in [0, 20], got " + std::to_string(*logprobs));
  if (max_tokens < 1)
    return bad("max_tokens", "max_tokens must be >= 1, got " + std::to_string(max_tokens));
  if (n < 1 || n > kMaxN) return bad("n", "n must be in [1, 128], got " + std::to_string(n));
  for (int32_t id : stop_token_ids) {
    if (id < 0 || id >= vocab_size)
      return bad("stop_token_ids", "stop_token_ids entry " + std::to_string(id) +
                                       " is out of range [0, " + std::to_string(vocab_size) + ")");
  }
  if (stop.size() > kMaxStopStrings)
    return bad("stop", "stop may hold at most 16 strings, got " + std::to_string(stop.size()));
  for (const std::string& s : stop) {
    if (s.empty()) return bad("stop", "stop strings must be non-empty");
  }
  return std::nullopt;
}

}  // namespace sluice
