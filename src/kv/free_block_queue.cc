#include "kv/free_block_queue.h"

#include "common/assert.h"

namespace sluice::kv {

FreeBlockQueue::FreeBlockQueue(int32_t num_blocks)
    : sentinel_(num_blocks),
      prev_(num_blocks + 1, num_blocks),
      next_(num_blocks + 1, num_blocks),
      in_queue_(num_blocks, false) {}

void FreeBlockQueue::link_before(BlockId id, int32_t at) {
  const int32_t before = prev_[at];
  prev_[id] = before;
  next_[id] = at;
  next_[before] = id;
  prev_[at] = id;
}

BlockId FreeBlockQueue::pop_front() {
  SLUICE_ASSERT(size_ > 0, "pop from an empty free queue");
  const BlockId id = next_[sentinel_];
  remove(id);
  return id;
}

void FreeBlockQueue::push_back(BlockId id) {
  SLUICE_ASSERT(!in_queue_[id], "block already in the free queue");
  link_before(id, sentinel_);
  in_queue_[id] = true;
  ++size_;
}

void FreeBlockQueue::remove(BlockId id) {
  SLUICE_ASSERT(in_queue_[id], "block not in the free queue");
  next_[prev_[id]] = next_[id];
  prev_[next_[id]] = prev_[id];
  prev_[id] = next_[id] = sentinel_;
  in_queue_[id] = false;
  --size_;
}

std::vector<BlockId> FreeBlockQueue::to_vector() const {
  std::vector<BlockId> out;
  out.reserve(size_);
  for (int32_t id = next_[sentinel_]; id != sentinel_; id = next_[id]) out.push_back(id);
  return out;
}

}  // namespace sluice::kv
