#pragma once
// The pool of KV block ids: reference counts, an LRU free queue, and the hash -> block map of the
// prefix cache. Freed blocks keep their hash and stay findable until a new allocation evicts them
// (lazily, from the head of the free queue). Block 0 is the reserved null block, never handed out.
// Knows nothing of tensors: KV memory is indexed by these ids elsewhere.
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/block_hash.h"
#include "kv/free_block_queue.h"

namespace sluice::kv {

class BlockPool {
 public:
  // num_blocks includes the null block 0; blocks 1..num_blocks-1 start in the free queue in order.
  BlockPool(int32_t num_blocks, bool enable_caching);

  int32_t num_blocks() const;
  int32_t num_free_blocks() const;  // ref count 0 (cached or not), excluding the null block
  double usage() const;             // 1 - free / (num_blocks - 1)

  // Pops n blocks from the head of the free queue; a popped block that was cached loses its hash.
  // Each gets ref count 1. Asserts n <= num_free_blocks().
  std::vector<BlockId> allocate(int32_t n);
  // The block that holds this hash, in use or free.
  std::optional<BlockId> lookup(BlockHash hash) const;
  // ref++ on each; a block going 0 -> 1 leaves the free queue (a prefix-cache hit on a free block).
  void touch(std::span<const BlockId> ids);
  // ref-- on each, in order; blocks reaching 0 are appended to the free queue's tail in that order.
  void release(std::span<const BlockId> ids);
  // Registers a just-filled block under `hash`. If another block already holds that hash, this one
  // stays unhashed (first writer wins). No-op when caching is disabled.
  void set_hash(BlockId id, BlockHash hash);
  // Forgets every hash; only when no block is in use (returns false otherwise).
  bool reset_prefix_cache();

  int32_t ref_count(BlockId id) const;
  std::optional<BlockHash> hash_of(BlockId id) const;
  std::vector<BlockId> free_queue() const;  // head (next evicted) first; for tests and metrics
  bool caching_enabled() const { return enable_caching_; }

 private:
  void check_id(BlockId id) const;
  void evict(BlockId id);  // drops the block's hash, if any

  int32_t num_blocks_;
  bool enable_caching_;
  FreeBlockQueue free_queue_;
  std::vector<int32_t> ref_counts_;  // [num_blocks]
  std::vector<BlockHash> hashes_;    // [num_blocks]; valid where has_hash_
  std::vector<bool> has_hash_;       // [num_blocks]
  std::unordered_map<BlockHash, BlockId> cached_;
};

}  // namespace sluice::kv
