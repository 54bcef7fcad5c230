#pragma once
// FCFS scheduler without prefill/decode phases (vLLM v1): every step gives each running sequence
// the tokens it still needs (1 for a decode, a chunk for a prefill) under one token budget, then
// admits waiting sequences. When the KV manager has no room, the newest running sequence is
// preempted (blocks freed, recomputed later from the front of the waiting queue).
//
// With a StatePool (models with recurrent layers) a running sequence also holds a live state
// slot; prompt chunks stop at snapshot boundaries, where the state is saved under the block's
// hash, and a prefix hit ends only where a snapshot exists. Block size 4, N = 2, 30-token prompt:
//
//   tokens  0       8       16      24  28  30
//           |-------|-------|-------|---|-|     boundaries 8, 16, 24 (every N blocks below E)
//                   ^       ^       ^   ^       and E = 28 (the prompt's last full block's end)
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/sequence.h"
#include "kv/kv_cache_manager.h"

namespace sluice {

struct SchedulerConfig {
  int32_t max_num_batched_tokens = 512;
  int32_t max_num_seqs = 64;
  int32_t snapshot_interval_blocks = 0;  // recurrent state snapshots: 0 = only at the prompt end
  // An image's tokens run in one step (Gemma 3's attend to each other); false: prefill chunks
  // may end inside an image (Qwen2-VL's are causal), so an image may exceed the budget.
  bool whole_images = true;
};

// The engine copies every restore_from before the forward and every save_to after it, before
// on_step_done (a snapshot slot may be restored from and re-reserved in the same step).
struct ScheduledSequence {
  Sequence* seq;
  int32_t num_new_tokens;  // tokens [num_computed, num_computed + num_new_tokens) run this step
  kv::StateSlot restore_from = -1;  // >= 0: copy this snapshot into the live slot before the step
  kv::StateSlot save_to = -1;       // >= 0: copy the live slot into this snapshot after the step
};

struct SchedulerOutput {
  std::vector<ScheduledSequence> scheduled;  // running order
  std::vector<Sequence*> preempted;          // this step
  int32_t num_tokens = 0;
  bool empty() const { return scheduled.empty(); }
};

class Scheduler {
 public:
  // states: the recurrent-state slots, or null for a model without recurrent layers.
  Scheduler(const SchedulerConfig& config, kv::KvCacheManager& kv, kv::StatePool* states = nullptr);

  void add(Sequence* seq);          // to the back of the waiting queue
  void add_running(Sequence* seq);  // already holds its blocks and state slot (n > 1 fork)
  SchedulerOutput schedule();
  // After the forward and the snapshot saves: advances num_computed of the scheduled sequences,
  // caches full blocks, releases the blocks their sliding windows left behind, and commits the
  // saved snapshots.
  void on_step_done(const SchedulerOutput& out);
  // After a sequence appended tokens: extends its block hashes.
  void on_tokens_appended(Sequence* seq);
  // Drops a sequence wherever it is and frees its blocks and state slot (finish or abort).
  void remove(Sequence* seq);

  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool has_work() const { return !waiting_.empty() || !running_.empty(); }
  kv::KvCacheManager& kv() { return kv_; }
  kv::StatePool* states() { return states_; }
  // Prompt tokens looked up in / served from the prefix cache, counted once per sequence.
  const kv::PrefixCacheStats& prefix_stats() const { return prefix_stats_; }

 private:
  void preempt(Sequence* seq);
  bool snapshots_enabled() const;
  // The first snapshot boundary after `from` tokens of the sequence; 0 when none is left.
  int32_t next_snapshot_boundary(const Sequence& seq, int32_t from) const;
  // n tokens from num_computed, cut at the next snapshot boundary.
  int32_t cap_at_boundary(const Sequence& seq, int32_t n) const;
  // The step's chunk within `budget`: cut at the next snapshot boundary, and never ending inside
  // an image (its tokens attend to each other); 0 when the rest of an image does not fit.
  int32_t chunk_size(const Sequence& seq, int32_t budget) const;
  // The scheduled chunk, with a snapshot reserved when it ends at a boundary.
  ScheduledSequence plan(Sequence* seq, int32_t n, kv::StateSlot restore_from);
  // The longest cached prefix whose end has a state snapshot (any, without a pool).
  kv::CachedPrefix find_prefix(const Sequence& seq);

  SchedulerConfig config_;
  kv::KvCacheManager& kv_;
  kv::StatePool* states_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;
  kv::PrefixCacheStats prefix_stats_;
};

}  // namespace sluice
