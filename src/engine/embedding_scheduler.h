#pragma once
// FCFS scheduler of embedding sequences. An encoder attends over its whole input at once, so a
// sequence is never split into chunks: each step takes whole waiting sequences in arrival order
// while their tokens fit the step's budget and count. No KV blocks: nothing outlives the step.
#include <cstdint>
#include <deque>
#include <vector>

#include "model/encoder_runner.h"

namespace sluice {

struct EmbeddingSequence {
  EncoderSequence input;
  uint64_t request = 0;  // the engine's id of the request it belongs to
  size_t index = 0;      // its place among the request's inputs
  int32_t num_tokens() const { return static_cast<int32_t>(input.ids.size()); }
};

class EmbeddingScheduler {
 public:
  EmbeddingScheduler(int32_t max_num_batched_tokens, int32_t max_num_seqs)
      : max_tokens_(max_num_batched_tokens), max_seqs_(max_num_seqs) {}

  void add(EmbeddingSequence* seq) { waiting_.push_back(seq); }
  // The next step's sequences: the oldest waiting ones while the total stays within the token
  // budget and max_num_seqs; the oldest always runs, alone when it exceeds the budget by itself.
  std::vector<EmbeddingSequence*> schedule();
  size_t num_waiting() const { return waiting_.size(); }

 private:
  int32_t max_tokens_, max_seqs_;
  std::deque<EmbeddingSequence*> waiting_;
};

}  // namespace sluice
