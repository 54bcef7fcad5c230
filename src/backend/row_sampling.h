#pragma once
// One logit row's sampling, described so that a backend can do it where the logits are
// (Backend::sample_rows): the sampler decides everything but the logits (the edits its bias and
// penalties make, the filters, the uniform draw), the backend applies it to the row.
#include <cstdint>
#include <span>

namespace sluice {

constexpr int32_t kMaxTopLogprobs = 20;

// x -> rep'(x + add) - sub, where rep'(y) = y > 0 ? y / rep : y * rep (rep == 1: identity): a
// logit_bias entry, then the repetition, then the frequency + presence penalty, of one token.
struct RowSamplingEdit {
  int32_t token;
  float add;
  float rep;
  float sub;
};

struct RowSampling {
  int32_t row = 0;            // which logit row
  float temperature = 0.0f;   // not > 0: greedy (argmax of the edited row)
  int32_t top_k = 0;          // <= 0: off
  float top_p = 1.0f;         // 1: off
  float min_p = 0.0f;         // 0: off
  double u = 0.0;             // [0, 1): the draw, walked in token id order over the kept mass
  int32_t num_logprobs = -1;  // -1: none; else the chosen token's + the top num_logprobs raw ones
  std::span<const RowSamplingEdit> edits;  // distinct tokens
  const uint32_t* allowed = nullptr;       // host [(vocab + 31) / 32] bitmask, or null: all
};

struct RowSampled {
  int32_t token = 0;
  float logprob = 0.0f;  // of `token` under the raw row's log-softmax (when asked)
  int32_t num_top = 0;
  int32_t top_token[kMaxTopLogprobs];  // most likely first, lower id among equals
  float top_logprob[kMaxTopLogprobs];
};

}  // namespace sluice
