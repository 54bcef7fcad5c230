#include "kv/state_pool.h"

#include "common/assert.h"

namespace sluice::kv {

StatePool::StatePool(int32_t num_live, int32_t num_snapshots)
    : num_live_(num_live), num_snapshots_(num_snapshots), slot_hash_(num_snapshots) {
  SLUICE_ASSERT(num_live >= 0 && num_snapshots >= 0, "slot counts must not be negative");
  for (StateSlot s = 0; s < num_live; ++s) free_live_.insert(s);
  for (StateSlot s = num_live; s < num_live + num_snapshots; ++s) free_snapshots_.insert(s);
}

std::optional<StateSlot> StatePool::acquire(RequestId id) {
  SLUICE_ASSERT(!live_.contains(id), "request already holds a live state slot");
  if (free_live_.empty()) return std::nullopt;
  const StateSlot s = *free_live_.begin();
  free_live_.erase(free_live_.begin());
  live_.emplace(id, s);
  return s;
}

void StatePool::release(RequestId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  free_live_.insert(it->second);
  live_.erase(it);
}

bool StatePool::has(RequestId id) const {
  return live_.contains(id);
}

StateSlot StatePool::slot(RequestId id) const {
  auto it = live_.find(id);
  SLUICE_ASSERT(it != live_.end(), "request holds no live state slot");
  return it->second;
}

int32_t StatePool::num_free_live() const {
  return static_cast<int32_t>(free_live_.size());
}

std::optional<StateSlot> StatePool::find_snapshot(BlockHash hash) {
  auto it = snapshots_.find(hash);
  if (it == snapshots_.end() || !it->second.filled) return std::nullopt;
  lru_.splice(lru_.end(), lru_, it->second.lru);
  return it->second.slot;
}

bool StatePool::has_snapshot(BlockHash hash) const {
  auto it = snapshots_.find(hash);
  return it != snapshots_.end() && it->second.filled;
}

std::optional<StateSlot> StatePool::reserve_snapshot(BlockHash hash) {
  if (snapshots_.contains(hash)) return std::nullopt;
  StateSlot s;
  if (!free_snapshots_.empty()) {
    s = *free_snapshots_.begin();
    free_snapshots_.erase(free_snapshots_.begin());
  } else if (!lru_.empty()) {
    auto victim = snapshots_.find(lru_.front());
    s = victim->second.slot;
    snapshots_.erase(victim);
    lru_.pop_front();
  } else {
    return std::nullopt;  // no slots, or all pending
  }
  snapshots_.emplace(hash, Snapshot{s, false, {}});
  slot_hash_[s - num_live_] = hash;
  ++num_pending_;
  return s;
}

void StatePool::check_snapshot_slot(StateSlot slot) const {
  SLUICE_ASSERT(slot >= num_live_ && slot < num_live_ + num_snapshots_, "not a snapshot slot");
}

void StatePool::commit_snapshot(StateSlot slot) {
  check_snapshot_slot(slot);
  const std::optional<BlockHash> hash = slot_hash_[slot - num_live_];
  SLUICE_ASSERT(hash.has_value(), "commit of a free snapshot slot");
  Snapshot& snap = snapshots_.at(*hash);
  SLUICE_ASSERT(!snap.filled, "commit of a snapshot not pending");
  snap.filled = true;
  snap.lru = lru_.insert(lru_.end(), *hash);
  --num_pending_;
}

int32_t StatePool::num_snapshots_held() const {
  return static_cast<int32_t>(snapshots_.size());
}

int32_t StatePool::num_snapshots_pending() const {
  return num_pending_;
}

void StatePool::reset_snapshots() {
  for (BlockHash hash : lru_) {
    auto it = snapshots_.find(hash);
    free_snapshots_.insert(it->second.slot);
    slot_hash_[it->second.slot - num_live_].reset();
    snapshots_.erase(it);
  }
  lru_.clear();
}

}  // namespace sluice::kv
