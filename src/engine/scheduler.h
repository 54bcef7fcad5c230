#pragma once
// FCFS scheduler without prefill/decode phases (vLLM v1): every step gives each running sequence
// the tokens it still needs (1 for a decode, a chunk for a prefill) under one token budget, then
// admits waiting sequences. When the KV manager has no room, the newest running sequence is
// preempted (blocks freed, recomputed later from the front of the waiting queue).
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/sequence.h"
#include "kv/kv_cache_manager.h"

namespace sluice {

struct SchedulerConfig {
  int32_t max_num_batched_tokens = 512;
  int32_t max_num_seqs = 64;
};

struct ScheduledSequence {
  Sequence* seq;
  int32_t num_new_tokens;  // tokens [num_computed, num_computed + num_new_tokens) run this step
};

struct SchedulerOutput {
  std::vector<ScheduledSequence> scheduled;  // running order
  std::vector<Sequence*> preempted;          // this step
  int32_t num_tokens = 0;
  bool empty() const { return scheduled.empty(); }
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, kv::KvCacheManager& kv);

  void add(Sequence* seq);          // to the back of the waiting queue
  void add_running(Sequence* seq);  // already holds its blocks (n > 1 fork)
  SchedulerOutput schedule();
  // After the forward: advances num_computed of the scheduled sequences, caches full blocks and
  // releases the blocks their sliding windows left behind.
  void on_step_done(const SchedulerOutput& out);
  // After a sequence appended tokens: extends its block hashes.
  void on_tokens_appended(Sequence* seq);
  // Drops a sequence wherever it is and frees its blocks (finish or abort).
  void remove(Sequence* seq);

  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool has_work() const { return !waiting_.empty() || !running_.empty(); }
  kv::KvCacheManager& kv() { return kv_; }
  // Prompt tokens looked up in / served from the prefix cache, counted once per sequence.
  const kv::PrefixCacheStats& prefix_stats() const { return prefix_stats_; }

 private:
  void preempt(Sequence* seq);

  SchedulerConfig config_;
  kv::KvCacheManager& kv_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;
  kv::PrefixCacheStats prefix_stats_;
};

}  // namespace sluice
