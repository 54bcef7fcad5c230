#include "engine/embedding_scheduler.h"

#include <algorithm>

namespace sluice {

std::vector<EmbeddingSequence*> EmbeddingScheduler::schedule() {
  std::vector<EmbeddingSequence*> out;
  int64_t tokens = 0;
  while (!waiting_.empty() && static_cast<int32_t>(out.size()) < max_seqs_) {
    EmbeddingSequence* seq = waiting_.front();
    if (!out.empty() && tokens + seq->num_tokens() > max_tokens_) break;
    tokens += seq->num_tokens();
    out.push_back(seq);
    waiting_.pop_front();
  }
  return out;
}

}  // namespace sluice
