// SamplingParams::validate: OpenAI-like bounds, one error per parameter, named in OpenAI spelling.
#include "engine/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sampling_test_util.h"

namespace sluice {
namespace {

constexpr int32_t kVocab = 1000;
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
using testing::kInf;

struct ParamsCase {
  const char* name;
  std::function<void(SamplingParams&)> edit;
  const char* expect;  // substring of the error message; nullptr: valid
};

std::vector<ParamsCase> cases() {
  return {
      {"defaults", [](SamplingParams&) {}, nullptr},
      {"temperature_zero", [](SamplingParams& p) { p.temperature = 0; }, nullptr},
      {"temperature_large", [](SamplingParams& p) { p.temperature = 1000; }, nullptr},
      {"temperature_negative", [](SamplingParams& p) { p.temperature = -0.1f; }, "temperature"},
      {"temperature_nan", [](SamplingParams& p) { p.temperature = kNan; }, "temperature"},
      {"temperature_inf", [](SamplingParams& p) { p.temperature = kInf; }, "temperature"},
      {"top_p_one", [](SamplingParams& p) { p.top_p = 1; }, nullptr},
      {"top_p_small", [](SamplingParams& p) { p.top_p = 1e-6f; }, nullptr},
      {"top_p_zero", [](SamplingParams& p) { p.top_p = 0; }, "top_p must be in (0, 1]"},
      {"top_p_above", [](SamplingParams& p) { p.top_p = 1.5f; },
       "top_p must be in (0, 1], got 1.5"},
      {"top_p_nan", [](SamplingParams& p) { p.top_p = kNan; }, "top_p"},
      {"top_k_minus_one", [](SamplingParams& p) { p.top_k = -1; }, nullptr},
      {"top_k_large", [](SamplingParams& p) { p.top_k = 10 * kVocab; }, nullptr},
      {"top_k_minus_two", [](SamplingParams& p) { p.top_k = -2; }, "top_k"},
      {"min_p_one", [](SamplingParams& p) { p.min_p = 1; }, nullptr},
      {"min_p_negative", [](SamplingParams& p) { p.min_p = -0.01f; }, "min_p"},
      {"min_p_above", [](SamplingParams& p) { p.min_p = 1.01f; }, "min_p"},
      {"min_p_nan", [](SamplingParams& p) { p.min_p = kNan; }, "min_p"},
      {"repetition_ok", [](SamplingParams& p) { p.repetition_penalty = 0.5f; }, nullptr},
      {"repetition_zero", [](SamplingParams& p) { p.repetition_penalty = 0; },
       "repetition_penalty"},
      {"repetition_negative", [](SamplingParams& p) { p.repetition_penalty = -1; },
       "repetition_penalty"},
      {"repetition_inf", [](SamplingParams& p) { p.repetition_penalty = kInf; },
       "repetition_penalty"},
      {"frequency_bounds", [](SamplingParams& p) { p.frequency_penalty = -2; }, nullptr},
      {"frequency_above", [](SamplingParams& p) { p.frequency_penalty = 2.01f; },
       "frequency_penalty"},
      {"frequency_below", [](SamplingParams& p) { p.frequency_penalty = -2.5f; },
       "frequency_penalty"},
      {"frequency_nan", [](SamplingParams& p) { p.frequency_penalty = kNan; }, "frequency_penalty"},
      {"presence_bounds", [](SamplingParams& p) { p.presence_penalty = 2; }, nullptr},
      {"presence_above", [](SamplingParams& p) { p.presence_penalty = 3; }, "presence_penalty"},
      {"presence_below", [](SamplingParams& p) { p.presence_penalty = -3; }, "presence_penalty"},
      {"logit_bias_ok",
       [](SamplingParams& p) {
         p.logit_bias = {{0, -100.0f}, {kVocab - 1, 100.0f}};
       },
       nullptr},
      {"logit_bias_negative_id",
       [](SamplingParams& p) {
         p.logit_bias = {{-1, 1.0f}};
       },
       "logit_bias"},
      {"logit_bias_id_vocab",
       [](SamplingParams& p) {
         p.logit_bias = {{kVocab, 1.0f}};
       },
       "logit_bias"},
      {"logit_bias_above",
       [](SamplingParams& p) {
         p.logit_bias = {{3, 100.5f}};
       },
       "logit_bias"},
      {"logit_bias_below",
       [](SamplingParams& p) {
         p.logit_bias = {{3, -101.0f}};
       },
       "logit_bias"},
      {"logit_bias_nan",
       [](SamplingParams& p) {
         p.logit_bias = {{3, kNan}};
       },
       "logit_bias"},
      {"logprobs_zero", [](SamplingParams& p) { p.logprobs = 0; }, nullptr},
      {"logprobs_twenty", [](SamplingParams& p) { p.logprobs = 20; }, nullptr},
      {"logprobs_negative", [](SamplingParams& p) { p.logprobs = -1; }, "logprobs"},
      {"logprobs_above", [](SamplingParams& p) { p.logprobs = 21; }, "logprobs"},
      {"max_tokens_one", [](SamplingParams& p) { p.max_tokens = 1; }, nullptr},
      {"max_tokens_zero", [](SamplingParams& p) { p.max_tokens = 0; }, "max_tokens"},
      {"max_tokens_negative", [](SamplingParams& p) { p.max_tokens = -5; }, "max_tokens"},
      {"n_max", [](SamplingParams& p) { p.n = 128; }, nullptr},
      {"n_zero", [](SamplingParams& p) { p.n = 0; }, "n must be"},
      {"n_above", [](SamplingParams& p) { p.n = 129; }, "n must be"},
      {"stop_token_ids_ok",
       [](SamplingParams& p) {
         p.stop_token_ids = {0, kVocab - 1};
       },
       nullptr},
      {"stop_token_ids_negative", [](SamplingParams& p) { p.stop_token_ids = {-1}; },
       "stop_token_ids"},
      {"stop_token_ids_vocab",
       [](SamplingParams& p) {
         p.stop_token_ids = {5, kVocab};
       },
       "stop_token_ids"},
      {"stop_sixteen", [](SamplingParams& p) { p.stop.assign(16, "x"); }, nullptr},
      {"stop_seventeen", [](SamplingParams& p) { p.stop.assign(17, "x"); }, "stop"},
      {"stop_empty",
       [](SamplingParams& p) {
         p.stop = {"ok", ""};
       },
       "stop"},
  };
}

TEST(SamplingParamsTest, Bounds) {
  for (const ParamsCase& c : cases()) {
    SamplingParams p;
    c.edit(p);
    const std::optional<RequestError> e = p.validate(kVocab);
    if (c.expect == nullptr) {
      EXPECT_FALSE(e) << c.name << ": " << e->message;
    } else {
      ASSERT_TRUE(e) << c.name;
      EXPECT_EQ(e->kind, RequestErrorKind::kInvalidParameter) << c.name;
      EXPECT_NE(e->message.find(c.expect), std::string::npos) << c.name << ": " << e->message;
      EXPECT_EQ(e->message.rfind(e->param, 0), 0u) << c.name << ": " << e->message;
    }
  }
}

TEST(SamplingParamsTest, MessageNamesParameterFirst) {
  SamplingParams p;
  p.top_p = 1.5f;
  std::optional<RequestError> e = p.validate(kVocab);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "top_p");
  EXPECT_EQ(e->message, "top_p must be in (0, 1], got 1.5");
  EXPECT_EQ(e->text(), "[request] top_p must be in (0, 1], got 1.5");
  p = SamplingParams();
  p.logit_bias = {{kVocab, 1.0f}};
  e = p.validate(kVocab);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "logit_bias");
  EXPECT_EQ(e->message, "logit_bias token id 1000 is out of range [0, 1000)");
}

}  // namespace
}  // namespace sluice
