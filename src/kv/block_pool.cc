#include "kv/block_pool.h"

#include "common/assert.h"

namespace sluice::kv {

BlockPool::BlockPool(int32_t num_blocks, bool enable_caching)
    : num_blocks_(num_blocks),
      enable_caching_(enable_caching),
      free_queue_(num_blocks),
      ref_counts_(num_blocks, 0),
      hashes_(num_blocks, 0),
      has_hash_(num_blocks, false) {
  SLUICE_ASSERT(num_blocks >= 1, "the pool needs at least the null block");
  for (BlockId id = 1; id < num_blocks; ++id) free_queue_.push_back(id);
}

int32_t BlockPool::num_blocks() const {
  return num_blocks_;
}
int32_t BlockPool::num_free_blocks() const {
  return free_queue_.size();
}

double BlockPool::usage() const {
  if (num_blocks_ <= 1) return 0.0;
  return 1.0 - static_cast<double>(num_free_blocks()) / (num_blocks_ - 1);
}

void BlockPool::check_id(BlockId id) const {
  SLUICE_ASSERT(id >= 1 && id < num_blocks_, "block id out of range (or the null block)");
}

void BlockPool::evict(BlockId id) {
  if (!has_hash_[id]) return;
  auto it = cached_.find(hashes_[id]);
  if (it != cached_.end() && it->second == id) cached_.erase(it);
  has_hash_[id] = false;
}

std::vector<BlockId> BlockPool::allocate(int32_t n) {
  SLUICE_ASSERT(n >= 0 && n <= num_free_blocks(), "not enough free blocks");
  std::vector<BlockId> out;
  out.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    const BlockId id = free_queue_.pop_front();
    evict(id);
    ref_counts_[id] = 1;
    out.push_back(id);
  }
  return out;
}

std::optional<BlockId> BlockPool::lookup(BlockHash hash) const {
  if (!enable_caching_) return std::nullopt;
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::touch(std::span<const BlockId> ids) {
  for (BlockId id : ids) {
    check_id(id);
    if (ref_counts_[id]++ == 0) free_queue_.remove(id);
  }
}

void BlockPool::release(std::span<const BlockId> ids) {
  for (BlockId id : ids) {
    check_id(id);
    SLUICE_ASSERT(ref_counts_[id] > 0, "release of a free block");
    if (--ref_counts_[id] == 0) free_queue_.push_back(id);
  }
}

void BlockPool::set_hash(BlockId id, BlockHash hash) {
  if (!enable_caching_) return;
  check_id(id);
  SLUICE_ASSERT(ref_counts_[id] > 0, "set_hash on a free block");
  if (has_hash_[id]) {
    SLUICE_ASSERT(hashes_[id] == hash, "block already holds a different hash");
    return;
  }
  if (!cached_.emplace(hash, id).second) return;  // another block holds it: first writer wins
  hashes_[id] = hash;
  has_hash_[id] = true;
}

bool BlockPool::reset_prefix_cache() {
  if (num_free_blocks() != num_blocks_ - 1) return false;
  cached_.clear();
  has_hash_.assign(num_blocks_, false);
  return true;
}

int32_t BlockPool::ref_count(BlockId id) const {
  SLUICE_ASSERT(id >= 0 && id < num_blocks_, "block id out of range");
  return ref_counts_[id];
}

std::optional<BlockHash> BlockPool::hash_of(BlockId id) const {
  SLUICE_ASSERT(id >= 0 && id < num_blocks_, "block id out of range");
  if (!has_hash_[id]) return std::nullopt;
  return hashes_[id];
}

std::vector<BlockId> BlockPool::free_queue() const {
  return free_queue_.to_vector();
}

}  // namespace sluice::kv
