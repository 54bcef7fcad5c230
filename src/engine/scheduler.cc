#include "engine/scheduler.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice {

Scheduler::Scheduler(const SchedulerConfig& config, kv::KvCacheManager& kv, kv::StatePool* states)
    : config_(config), kv_(kv), states_(states) {
  SLUICE_ASSERT(config.snapshot_interval_blocks >= 0, "snapshot interval must not be negative");
}

void Scheduler::add(Sequence* seq) {
  SLUICE_ASSERT(seq->state_slot < 0, "a waiting sequence holds no state slot");
  seq->status = SequenceStatus::kWaiting;
  on_tokens_appended(seq);
  waiting_.push_back(seq);
}

void Scheduler::add_running(Sequence* seq) {
  SLUICE_ASSERT(kv_.has(seq->id), "add_running needs a sequence that holds blocks");
  SLUICE_ASSERT(!states_ || (states_->has(seq->id) && states_->slot(seq->id) == seq->state_slot),
                "add_running needs a sequence that holds its state slot");
  seq->status = SequenceStatus::kRunning;
  on_tokens_appended(seq);
  running_.push_back(seq);
}

void Scheduler::on_tokens_appended(Sequence* seq) {
  kv::extend_block_hashes(seq->block_hashes, seq->tokens, kv_.block_size(), seq->root_hash,
                          seq->media);
}

void Scheduler::preempt(Sequence* seq) {
  kv_.free(seq->id);
  if (states_) states_->release(seq->id);
  seq->state_slot = -1;
  seq->num_computed = 0;
  seq->status = SequenceStatus::kWaiting;
  ++seq->num_preemptions;
  waiting_.push_front(seq);
}

bool Scheduler::snapshots_enabled() const {
  return states_ && states_->num_snapshots() > 0 && kv_.pool().caching_enabled();
}

int32_t Scheduler::next_snapshot_boundary(const Sequence& seq, int32_t from) const {
  const int32_t bs = kv_.block_size();
  const int32_t end = seq.num_prompt_tokens / bs * bs;
  if (!snapshots_enabled() || from >= end) return 0;
  if (const int32_t every = config_.snapshot_interval_blocks * bs; every > 0) {
    const int32_t next = (from / every + 1) * every;
    if (next < end) return next;
  }
  return end;
}

int32_t Scheduler::cap_at_boundary(const Sequence& seq, int32_t n) const {
  const int32_t boundary = next_snapshot_boundary(seq, seq.num_computed);
  return boundary > 0 ? std::min(n, boundary - seq.num_computed) : n;
}

int32_t Scheduler::chunk_size(const Sequence& seq, int32_t budget) const {
  const int32_t c = seq.num_computed;
  int32_t n = cap_at_boundary(seq, std::min(seq.num_tokens() - c, budget));
  if (!config_.whole_images) return n;
  for (const kv::MediaKey& m : seq.media) {
    const int32_t end = m.start + m.length;
    if (c + n <= m.start || c + n >= end) continue;  // the chunk does not end inside this image
    if (m.start > c) return m.start - c;             // stop before it
    n = end - c <= budget ? end - c : 0;  // the rest of it at once (past a snapshot boundary)
  }
  return n;
}

ScheduledSequence Scheduler::plan(Sequence* seq, int32_t n, kv::StateSlot restore_from) {
  ScheduledSequence s{seq, n, restore_from};
  const int32_t end = seq->num_computed + n;
  if (end == next_snapshot_boundary(*seq, seq->num_computed))
    s.save_to =
        states_->reserve_snapshot(seq->block_hashes[end / kv_.block_size() - 1]).value_or(-1);
  return s;
}

kv::CachedPrefix Scheduler::find_prefix(const Sequence& seq) {
  if (!states_) return kv_.find_cached_prefix(seq.block_hashes, seq.num_tokens());
  return kv_.find_cached_prefix(seq.block_hashes, seq.num_tokens(), [&](int32_t k) {
    return states_->has_snapshot(seq.block_hashes[k - 1]);
  });
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int32_t budget = config_.max_num_batched_tokens;

  // Running sequences first, oldest first; the newest are preempted when blocks run out.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    SLUICE_ASSERT(seq->num_tokens() > seq->num_computed,
                  "running sequence with nothing to compute");
    const int32_t n = chunk_size(*seq, budget);
    if (n == 0) {  // the rest of an image does not fit this step's budget: next step
      ++i;
      continue;
    }
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
    out.scheduled.push_back(plan(seq, n, -1));
    out.num_tokens += n;
    budget -= n;
    ++i;
  }

  // Then waiting sequences in arrival order, unless this step already had to preempt.
  while (out.preempted.empty() && !waiting_.empty() && budget > 0 &&
         running_.size() < static_cast<size_t>(config_.max_num_seqs)) {
    Sequence* seq = waiting_.front();
    SLUICE_ASSERT(!states_ || !kv_.has(seq->id), "a waiting sequence with state holds no blocks");
    if (states_ && states_->num_free_live() == 0) break;  // no state slot: like no KV room
    kv::CachedPrefix cached;
    if (!kv_.has(seq->id)) {
      cached = find_prefix(*seq);
      seq->num_computed = cached.num_blocks * kv_.block_size();
    }
    const int32_t n = chunk_size(*seq, budget);
    if (n == 0 || !kv_.allocate_slots(seq->id, seq->num_computed + n, cached)) {
      seq->num_computed = 0;
      break;
    }
    kv::StateSlot restore_from = -1;
    if (states_) {
      seq->state_slot = *states_->acquire(seq->id);
      if (!cached.empty())
        restore_from = *states_->find_snapshot(seq->block_hashes[cached.num_blocks - 1]);
    }
    if (seq->num_cached_tokens < 0) {
      seq->num_cached_tokens = seq->num_computed;
      prefix_stats_.queries += seq->num_tokens();
      prefix_stats_.hits += seq->num_computed;
    }
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    running_.push_back(seq);
    out.scheduled.push_back(plan(seq, n, restore_from));
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
    if (s.save_to >= 0) states_->commit_snapshot(s.save_to);
  }
}

void Scheduler::remove(Sequence* seq) {
  if (auto it = std::find(running_.begin(), running_.end(), seq); it != running_.end())
    running_.erase(it);
  if (auto it = std::find(waiting_.begin(), waiting_.end(), seq); it != waiting_.end())
    waiting_.erase(it);
  if (kv_.has(seq->id)) kv_.free(seq->id);
  if (states_) states_->release(seq->id);
  seq->state_slot = -1;
  seq->status = SequenceStatus::kFinished;
}

}  // namespace sluice
