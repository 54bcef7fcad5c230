#pragma once
// Doubly-linked LRU queue of free block ids over two index arrays: O(1) push to the tail,
// pop from the head and removal from the middle (a prefix-cache hit on a free block).
//   sentinel <-> head <-> ... <-> tail <-> sentinel      (sentinel = index num_blocks)
#include <cstdint>
#include <vector>

#include "kv/block_hash.h"

namespace sluice::kv {

class FreeBlockQueue {
 public:
  explicit FreeBlockQueue(int32_t num_blocks);

  int32_t size() const { return size_; }
  bool contains(BlockId id) const { return in_queue_[id]; }
  BlockId pop_front();
  void push_back(BlockId id);
  void remove(BlockId id);
  std::vector<BlockId> to_vector() const;  // head first

 private:
  void link_before(BlockId id, int32_t at);

  int32_t sentinel_;
  int32_t size_ = 0;
  std::vector<int32_t> prev_;
  std::vector<int32_t> next_;
  std::vector<bool> in_queue_;
};

}  // namespace sluice::kv
