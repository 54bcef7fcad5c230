#include "engine/scheduler.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice {

Scheduler::Scheduler(const SchedulerConfig& config, kv::KvCacheManager& kv)
    : config_(config), kv_(kv) {}

void Scheduler::add(Sequence* seq) {
  seq->status = SequenceStatus::kWaiting;
  on_tokens_appended(seq);
  waiting_.push_back(seq);
}

void Scheduler::add_running(Sequence* seq) {
  SLUICE_ASSERT(kv_.has(seq->id), "add_running needs a sequence that holds blocks");
  seq->status = SequenceStatus::kRunning;
  on_tokens_appended(seq);
  running_.push_back(seq);
}

void Scheduler::on_tokens_appended(Sequence* seq) {
  kv::extend_block_hashes(seq->block_hashes, seq->tokens, kv_.block_size(), seq->root_hash);
}

void Scheduler::preempt(Sequence* seq) {
  kv_.free(seq->id);
  seq->num_computed = 0;
  seq->status = SequenceStatus::kWaiting;
  ++seq->num_preemptions;
  waiting_.push_front(seq);
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int32_t budget = config_.max_num_batched_tokens;

  // Running sequences first, oldest first; the newest are preempted when blocks run out.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    const int32_t n = std::min(seq->num_tokens() - seq->num_computed, budget);
    SLUICE_ASSERT(n > 0, "running sequence with nothing to compute");
    bool fits = true;
    while (!kv_.allocate_slots(seq->id, seq->num_computed + n)) {
      Sequence* victim = running_.back();
      running_.pop_back();
      preempt(victim);
      out.preempted.push_back(victim);
      if (victim == seq) {
        fits = false;
        break;
      }
    }
    if (!fits) break;
    out.scheduled.push_back({seq, n});
    out.num_tokens += n;
    budget -= n;
    ++i;
  }

  // Then waiting sequences in arrival order, unless this step already had to preempt.
  while (out.preempted.empty() && !waiting_.empty() && budget > 0 &&
         running_.size() < static_cast<size_t>(config_.max_num_seqs)) {
    Sequence* seq = waiting_.front();
    kv::CachedPrefix cached;
    if (!kv_.has(seq->id)) {
      cached = kv_.find_cached_prefix(seq->block_hashes, seq->num_tokens());
      seq->num_computed = cached.num_blocks * kv_.block_size();
    }
    const int32_t n = std::min(seq->num_tokens() - seq->num_computed, budget);
    if (!kv_.allocate_slots(seq->id, seq->num_computed + n, cached)) {
      seq->num_computed = 0;
      break;
    }
    if (seq->num_cached_tokens < 0) {
      seq->num_cached_tokens = seq->num_computed;
      prefix_stats_.queries += seq->num_tokens();
      prefix_stats_.hits += seq->num_computed;
    }
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    running_.push_back(seq);
    out.scheduled.push_back({seq, n});
    out.num_tokens += n;
    budget -= n;
  }
  return out;
}

void Scheduler::on_step_done(const SchedulerOutput& out) {
  for (const ScheduledSequence& s : out.scheduled) {
    s.seq->num_computed += s.num_new_tokens;
    s.seq->num_computed_total += s.num_new_tokens;
    kv_.cache_blocks(s.seq->id, s.seq->block_hashes, s.seq->num_computed);
    kv_.free_outside_window(s.seq->id, s.seq->num_computed);
  }
}

void Scheduler::remove(Sequence* seq) {
  if (auto it = std::find(running_.begin(), running_.end(), seq); it != running_.end())
    running_.erase(it);
  if (auto it = std::find(waiting_.begin(), waiting_.end(), seq); it != waiting_.end())
    waiting_.erase(it);
  if (kv_.has(seq->id)) kv_.free(seq->id);
  seq->status = SequenceStatus::kFinished;
}

}  // namespace sluice
