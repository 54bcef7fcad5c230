#pragma once
// Slot ids of the recurrent-layer state (gated delta-net, Mamba-style): the backend holds one
// fixed-size state per slot; this class only hands the ids out. Live slots belong to running
// sequences; snapshot slots hold a copy of a sequence's state at a block boundary, keyed by that
// block's hash and evicted least recently used first.
//
//   ids   0 .. num_live-1 | num_live .. num_live+num_snapshots-1
//         live (per request)  snapshots (per block hash): free, pending (reserved, filled by the
//                             step in flight) or filled (findable, in LRU order, evictable)
#include <cstdint>
#include <list>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "kv/block_hash.h"
#include "kv/kv_cache_manager.h"

namespace sluice::kv {

using StateSlot = int32_t;

class StatePool {
 public:
  StatePool(int32_t num_live, int32_t num_snapshots);

  int32_t num_live() const { return num_live_; }
  int32_t num_snapshots() const { return num_snapshots_; }

  // The request's live slot, the lowest free id; nullopt when none is free. Asserts it has none.
  std::optional<StateSlot> acquire(RequestId id);
  // Frees the request's live slot; no-op for a request without one (e.g. aborted while waiting).
  void release(RequestId id);
  // Whether the request holds a live slot.
  bool has(RequestId id) const;
  // The request's live slot; asserts it has one.
  StateSlot slot(RequestId id) const;
  // Live slots no request holds.
  int32_t num_free_live() const;

  // The filled snapshot of this block hash, marked most recently used.
  std::optional<StateSlot> find_snapshot(BlockHash hash);
  // Whether a filled snapshot of this hash exists (LRU order unchanged).
  bool has_snapshot(BlockHash hash) const;
  // A snapshot slot the caller fills for this hash in the step in flight: a free one (lowest id),
  // else the least recently used filled one is evicted. It stays pending (not findable, not
  // evictable) until commit_snapshot. nullopt when num_snapshots is 0, the hash is already held
  // (filled or pending) or every snapshot slot is pending.
  std::optional<StateSlot> reserve_snapshot(BlockHash hash);
  // The pending slot now holds its state: findable, most recently used.
  void commit_snapshot(StateSlot slot);
  // Snapshot slots holding a hash, filled or pending.
  int32_t num_snapshots_held() const;
  // Snapshot slots reserved and not yet committed.
  int32_t num_snapshots_pending() const;
  // Forgets every filled snapshot; pending ones stay (a step in flight fills them).
  void reset_snapshots();

 private:
  struct Snapshot {
    StateSlot slot;
    bool filled = false;
    std::list<BlockHash>::iterator lru;  // valid when filled
  };
  void check_snapshot_slot(StateSlot slot) const;

  int32_t num_live_, num_snapshots_;
  std::set<StateSlot> free_live_;
  std::unordered_map<RequestId, StateSlot> live_;
  std::set<StateSlot> free_snapshots_;
  std::unordered_map<BlockHash, Snapshot> snapshots_;
  std::vector<std::optional<BlockHash>> slot_hash_;  // [num_snapshots] hash held per slot
  std::list<BlockHash> lru_;                         // filled snapshots, least recent first
  int32_t num_pending_ = 0;
};

}  // namespace sluice::kv
