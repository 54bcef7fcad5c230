#include "kv/kv_cache_manager.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice::kv {

KvCacheManager::KvCacheManager(int32_t num_blocks, int32_t block_size, bool enable_prefix_caching)
    : block_size_(block_size), pool_(num_blocks, enable_prefix_caching) {
  SLUICE_ASSERT(block_size > 0, "block_size must be positive");
}

int32_t KvCacheManager::block_size() const {
  return block_size_;
}
const BlockPool& KvCacheManager::pool() const {
  return pool_;
}

KvCacheManager::Table& KvCacheManager::table(RequestId id) {
  auto it = tables_.find(id);
  SLUICE_ASSERT(it != tables_.end(), "unknown request");
  return it->second;
}

std::vector<BlockId> KvCacheManager::find_cached_prefix(std::span<const BlockHash> block_hashes,
                                                        int32_t num_tokens) {
  std::vector<BlockId> hits;
  if (!pool_.caching_enabled() || num_tokens <= 0) return hits;
  // At least one token must be computed: its logits start the generation.
  const size_t max_blocks = std::min<size_t>(block_hashes.size(), (num_tokens - 1) / block_size_);
  for (size_t i = 0; i < max_blocks; ++i) {
    const std::optional<BlockId> id = pool_.lookup(block_hashes[i]);
    if (!id) break;
    hits.push_back(*id);
  }
  stats_.queries += num_tokens;
  stats_.hits += static_cast<int64_t>(hits.size()) * block_size_;
  return hits;
}

bool KvCacheManager::allocate_slots(RequestId id, int32_t num_tokens_total,
                                    std::span<const BlockId> cached_prefix) {
  auto it = tables_.find(id);
  const bool is_new = it == tables_.end();
  SLUICE_ASSERT(is_new || cached_prefix.empty(), "cached_prefix given for a running request");
  const size_t have = is_new ? cached_prefix.size() : it->second.blocks.size();
  const int64_t want = (static_cast<int64_t>(num_tokens_total) + block_size_ - 1) / block_size_;
  const int64_t needed = std::max<int64_t>(0, want - static_cast<int64_t>(have));
  int64_t free_prefix = 0;  // cached-prefix blocks that touching takes off the free queue
  for (BlockId b : cached_prefix) {
    // A stale prefix (another allocation evicted it since find_cached_prefix) lost its hash.
    SLUICE_ASSERT(pool_.hash_of(b).has_value(), "cached_prefix block no longer cached");
    free_prefix += pool_.ref_count(b) == 0;
  }
  if (needed > pool_.num_free_blocks() - free_prefix) return false;

  if (is_new) {
    it = tables_.emplace(id, Table{}).first;
    pool_.touch(cached_prefix);  // before allocate, so the hits cannot be evicted
    it->second.blocks.assign(cached_prefix.begin(), cached_prefix.end());
    it->second.num_cached = static_cast<int32_t>(cached_prefix.size());
  }
  const std::vector<BlockId> fresh = pool_.allocate(static_cast<int32_t>(needed));
  it->second.blocks.insert(it->second.blocks.end(), fresh.begin(), fresh.end());
  return true;
}

void KvCacheManager::cache_blocks(RequestId id, std::span<const BlockHash> block_hashes,
                                  int32_t num_computed_tokens) {
  Table& t = table(id);
  const int32_t num_full = num_computed_tokens / block_size_;
  if (num_full <= t.num_cached) return;
  SLUICE_ASSERT(num_full <= static_cast<int32_t>(t.blocks.size()), "computed past the table");
  SLUICE_ASSERT(num_full <= static_cast<int32_t>(block_hashes.size()), "missing block hashes");
  for (int32_t i = t.num_cached; i < num_full; ++i) pool_.set_hash(t.blocks[i], block_hashes[i]);
  t.num_cached = num_full;
}

void KvCacheManager::free(RequestId id) {
  auto it = tables_.find(id);
  if (it == tables_.end()) return;  // never allocated (e.g. aborted while waiting)
  std::vector<BlockId>& blocks = it->second.blocks;
  std::reverse(blocks.begin(), blocks.end());
  pool_.release(blocks);
  tables_.erase(it);
}

std::optional<std::optional<std::pair<BlockId, BlockId>>> KvCacheManager::fork(RequestId parent,
                                                                               RequestId child,
                                                                               int32_t num_tokens) {
  SLUICE_ASSERT(!tables_.contains(child), "fork into an existing request");
  const Table& p = table(parent);
  const int64_t capacity = int64_t{block_size_} * static_cast<int64_t>(p.blocks.size());
  SLUICE_ASSERT(num_tokens >= 0 && num_tokens <= capacity, "fork past the parent's table");
  const int32_t num_full = num_tokens / block_size_;
  const bool partial = num_tokens % block_size_ != 0;
  if (partial && pool_.num_free_blocks() == 0) return std::nullopt;

  Table t;
  t.blocks.assign(p.blocks.begin(), p.blocks.begin() + num_full);
  t.num_cached = num_full;
  pool_.touch(t.blocks);
  std::optional<std::pair<BlockId, BlockId>> copy;
  if (partial) {
    const BlockId dst = pool_.allocate(1)[0];
    copy = std::pair{p.blocks[num_full], dst};
    t.blocks.push_back(dst);
  }
  tables_.emplace(child, std::move(t));
  return std::make_optional(copy);  // engaged outer, maybe-empty inner
}

bool KvCacheManager::has(RequestId id) const {
  return tables_.contains(id);
}

const std::vector<BlockId>& KvCacheManager::block_table(RequestId id) const {
  auto it = tables_.find(id);
  SLUICE_ASSERT(it != tables_.end(), "unknown request");
  return it->second.blocks;
}

int32_t KvCacheManager::num_free_blocks() const {
  return pool_.num_free_blocks();
}
double KvCacheManager::usage() const {
  return pool_.usage();
}
const PrefixCacheStats& KvCacheManager::stats() const {
  return stats_;
}
bool KvCacheManager::reset_prefix_cache() {
  return pool_.reset_prefix_cache();
}

}  // namespace sluice::kv
