#pragma once
// What the scheduler tests share: a sequence of consecutive token ids, and the engine's part of
// a step (sampling one token for every sequence that reached its end).
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#include "engine/scheduler.h"
#include "kv/block_hash.h"

namespace sluice::testing {

inline std::unique_ptr<Sequence> make_seq(kv::RequestId id, int32_t num_prompt,
                                          int32_t first_token = 0) {
  auto s = std::make_unique<Sequence>();
  s->id = id;
  s->tokens.resize(num_prompt);
  std::iota(s->tokens.begin(), s->tokens.end(), first_token);
  s->num_prompt_tokens = num_prompt;
  s->root_hash = kv::root_hash("");
  return s;
}

// The token count of each scheduled sequence, in order.
inline std::vector<int32_t> counts(const SchedulerOutput& out) {
  std::vector<int32_t> v;
  for (const auto& s : out.scheduled) v.push_back(s.num_new_tokens);
  return v;
}

// What the engine does after a step: every sequence that reached its end samples a token.
inline void finish_step(Scheduler& sched, const SchedulerOutput& out, int32_t token = 999) {
  sched.on_step_done(out);
  for (const ScheduledSequence& s : out.scheduled) {
    if (s.seq->num_computed == s.seq->num_tokens()) {
      s.seq->tokens.push_back(token);
      sched.on_tokens_appended(s.seq);
    }
  }
}

}  // namespace sluice::testing
