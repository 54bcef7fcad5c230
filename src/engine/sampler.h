#pragma once
// Per-request sampling inside a shared batch: each sequence owns a SequenceSampler (its params,
// RNG and penalty counts), so a request's draws never depend on what else is in the batch.
#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "backend/row_sampling.h"
#include "engine/sampling_params.h"

namespace sluice {

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct SampleOutput {
  int32_t token = -1;
  float logprob = 0.0f;           // of `token` under the raw model distribution (if requested)
  std::vector<TokenLogprob> top;  // top `logprobs` tokens, most likely first (if requested)
};

class SequenceSampler {
 public:
  // seed: used when params.seed is unset (the engine draws one per request).
  SequenceSampler(const SamplingParams& params, uint64_t seed, std::span<const int32_t> prompt);
  // logits: [vocab], overwritten. Applies logit_bias, penalties, temperature, top-k, top-p, min-p,
  // then draws. Records the sampled token for the penalties. allowed: null, or a bitmask
  // [(vocab + 31) / 32] of the tokens that may be drawn (logprobs stay those of the raw model).
  SampleOutput sample(std::span<float> logits, const uint32_t* allowed = nullptr);
  // A token chosen outside sample(): forced by the engine (e.g. closing a reasoning section whose
  // budget is spent) or a plain_greedy() pick made where the logits are. Recorded for the
  // penalties like a sampled one; its logprob is reported as 0.
  SampleOutput force(int32_t token);
  // True when sample() would return the argmax of the raw logits and nothing else: greedy, no
  // logit_bias, no penalty with anything to penalize, no logprobs. The engine then takes the
  // pick from where the logits are (Backend::argmax_rows) and hands it to force().
  bool plain_greedy() const;
  // sample() split for a backend that samples where the logits are (Backend::sample_rows): the
  // step's RowSampling for logit row `row` (it draws the step's uniform, as sample() would; its
  // edits live in this sampler until the next call), then take() of the backend's result.
  RowSampling row_sampling(int32_t row, int32_t vocab, const uint32_t* allowed);
  SampleOutput take(const RowSampled& r);

 private:
  // Applies logit_bias and penalties in place; returns false when nothing was touched.
  bool apply_bias_and_penalties(std::span<float> logits, bool record_raw);
  int32_t draw(std::span<float> logits);  // steps (5)-(9) for temperature > 0
  void record(int32_t token);

  SamplingParams params_;
  std::mt19937_64 rng_;
  bool penalize_ = false;  // any of repetition / frequency / presence is active
  // Distinct tokens seen (prompt when repetition_penalty != 1, plus output) and their output
  // counts; updated per sampled token so a step costs O(distinct), never O(history).
  std::vector<int32_t> seen_;
  std::vector<int32_t> out_count_;
  std::unordered_map<int32_t, int32_t> slot_;  // token -> index in seen_ / out_count_
  std::vector<RowSamplingEdit> edits_;         // row_sampling()'s, sorted by token
};

}  // namespace sluice
