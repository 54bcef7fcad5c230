#include "kv/kv_cache_manager.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice::kv {

namespace {
std::vector<BlockId> without_null(std::span<const BlockId> blocks) {
  std::vector<BlockId> out;
  for (BlockId b : blocks)
    if (b != kNullBlock) out.push_back(b);
  return out;
}
}  // namespace

KvCacheManager::KvCacheManager(int32_t num_blocks, int32_t block_size, bool enable_prefix_caching,
                               std::vector<int32_t> group_windows)
    : block_size_(block_size),
      windows_(std::move(group_windows)),
      pool_(num_blocks, enable_prefix_caching) {
  SLUICE_ASSERT(block_size > 0, "block_size must be positive");
  SLUICE_ASSERT(!windows_.empty(), "at least one KV cache group");
  for (int32_t w : windows_) SLUICE_ASSERT(w >= 0, "a window is 0 (full) or positive");
}

int32_t KvCacheManager::block_size() const {
  return block_size_;
}
int32_t KvCacheManager::num_groups() const {
  return static_cast<int32_t>(windows_.size());
}
const BlockPool& KvCacheManager::pool() const {
  return pool_;
}

KvCacheManager::Table& KvCacheManager::table(RequestId id) {
  auto it = tables_.find(id);
  SLUICE_ASSERT(it != tables_.end(), "unknown request");
  return it->second;
}

int32_t KvCacheManager::first_read_block(int32_t g, int64_t pos) const {
  const int64_t w = windows_[g];
  return w > 0 ? static_cast<int32_t>(std::max<int64_t>(0, pos - w + 1) / block_size_) : 0;
}

bool KvCacheManager::is_cached(int32_t g, BlockHash hash) const {
  return pool_.lookup(group_hash(hash, g)).has_value();
}

// Walks down from the longest candidate: a missing block moves the hit's end below it, until
// every block the end's window reads has been seen cached.
int32_t KvCacheManager::window_hit(int32_t g, std::span<const BlockHash> block_hashes,
                                   int32_t max_blocks) const {
  int32_t end = max_blocks;
  for (int32_t i = max_blocks - 1; i >= first_read_block(g, int64_t{end} * block_size_); --i)
    if (!is_cached(g, block_hashes[i])) end = i;
  return end;
}

int32_t KvCacheManager::longest_hit(std::span<const BlockHash> block_hashes,
                                    int32_t max_blocks) const {
  int32_t k = max_blocks;
  for (int32_t g = 0; g < num_groups(); ++g) {  // full groups: every block up to the hit
    if (windows_[g] > 0) continue;
    int32_t i = 0;
    while (i < k && is_cached(g, block_hashes[i])) ++i;
    k = i;
  }
  // Sliding groups: a shorter hit moves every window, so repeat until none shortens it.
  for (bool shorter = true; shorter;) {
    shorter = false;
    for (int32_t g = 0; g < num_groups(); ++g) {
      if (windows_[g] == 0) continue;
      const int32_t end = window_hit(g, block_hashes, k);
      shorter |= end < k;
      k = end;
    }
  }
  return k;
}

CachedPrefix KvCacheManager::find_cached_prefix(std::span<const BlockHash> block_hashes,
                                                int32_t num_tokens,
                                                const std::function<bool(int32_t)>& accept_end) {
  CachedPrefix hit;
  hit.blocks.resize(windows_.size());
  if (!pool_.caching_enabled() || num_tokens <= 0) return hit;
  // At least one token must be computed: its logits start the generation.
  int32_t k = static_cast<int32_t>(
      std::min<size_t>(block_hashes.size(), static_cast<size_t>((num_tokens - 1) / block_size_)));
  // A shorter admitted end may need blocks a sliding window skipped: look again until both agree.
  for (k = longest_hit(block_hashes, k); accept_end && k > 0;) {
    int32_t admitted = k;
    while (admitted > 0 && !accept_end(admitted)) --admitted;
    if (admitted == k) break;
    k = longest_hit(block_hashes, admitted);
  }
  hit.num_blocks = k;
  for (int32_t g = 0; g < num_groups(); ++g) {
    const int32_t first = first_read_block(g, int64_t{k} * block_size_);
    hit.blocks[g].assign(first, kNullBlock);
    for (int32_t i = first; i < k; ++i)
      hit.blocks[g].push_back(*pool_.lookup(group_hash(block_hashes[i], g)));
  }
  stats_.queries += num_tokens;
  stats_.hits += int64_t{k} * block_size_;
  return hit;
}

bool KvCacheManager::allocate_slots(RequestId id, int32_t num_tokens_total,
                                    const CachedPrefix& cached) {
  auto it = tables_.find(id);
  const bool is_new = it == tables_.end();
  SLUICE_ASSERT(is_new || cached.empty(), "cached_prefix given for a running request");
  SLUICE_ASSERT(cached.empty() || cached.blocks.size() == windows_.size(),
                "cached_prefix of another group layout");
  const int64_t have = is_new ? cached.num_blocks : it->second.num_blocks();
  const int64_t want = (static_cast<int64_t>(num_tokens_total) + block_size_ - 1) / block_size_;
  const int64_t per_group = std::max<int64_t>(0, want - have);
  const int64_t needed = per_group * num_groups();
  int64_t free_prefix = 0;  // cached-prefix blocks that touching takes off the free queue
  for (int32_t g = 0; g < num_groups() && !cached.empty(); ++g)
    for (BlockId b : cached.blocks[g]) {
      if (b == kNullBlock) continue;
      // A stale prefix (another allocation evicted it since find_cached_prefix) lost its hash.
      SLUICE_ASSERT(pool_.hash_of(b).has_value(), "cached_prefix block no longer cached");
      free_prefix += pool_.ref_count(b) == 0;
    }
  if (needed > pool_.num_free_blocks() - free_prefix) return false;

  if (is_new) {
    it = tables_.emplace(id, Table{}).first;
    Table& t = it->second;
    t.groups.resize(windows_.size());
    for (int32_t g = 0; g < num_groups() && !cached.empty(); ++g) {
      t.groups[g] = cached.blocks[g];
      pool_.touch(without_null(t.groups[g]));  // before allocate, so the hits cannot be evicted
    }
    t.num_cached = cached.num_blocks;
  }
  const std::vector<BlockId> fresh = pool_.allocate(static_cast<int32_t>(needed));
  for (int32_t g = 0; g < num_groups(); ++g)  // group g gets the g-th run of fresh blocks
    it->second.groups[g].insert(it->second.groups[g].end(), fresh.begin() + g * per_group,
                                fresh.begin() + (g + 1) * per_group);
  return true;
}

void KvCacheManager::cache_blocks(RequestId id, std::span<const BlockHash> block_hashes,
                                  int32_t num_computed_tokens) {
  Table& t = table(id);
  const int32_t num_full = num_computed_tokens / block_size_;
  if (num_full <= t.num_cached) return;
  SLUICE_ASSERT(num_full <= t.num_blocks(), "computed past the table");
  SLUICE_ASSERT(num_full <= static_cast<int32_t>(block_hashes.size()), "missing block hashes");
  for (int32_t g = 0; g < num_groups(); ++g)
    for (int32_t i = t.num_cached; i < num_full; ++i)
      if (t.groups[g][i] != kNullBlock)
        pool_.set_hash(t.groups[g][i], group_hash(block_hashes[i], g));
  t.num_cached = num_full;
}

void KvCacheManager::free_outside_window(RequestId id, int32_t num_computed_tokens) {
  Table& t = table(id);
  std::vector<BlockId> released;
  for (int32_t g = 0; g < num_groups(); ++g) {
    if (windows_[g] == 0) continue;
    std::vector<BlockId>& blocks = t.groups[g];
    const int32_t first = std::min(first_read_block(g, num_computed_tokens), t.num_blocks());
    // Released blocks are a run of null blocks at the front of the table.
    for (int32_t i = first - 1; i >= 0 && blocks[i] != kNullBlock; --i) {
      released.push_back(blocks[i]);
      blocks[i] = kNullBlock;
    }
  }
  pool_.release(released);
}

void KvCacheManager::free(RequestId id) {
  auto it = tables_.find(id);
  if (it == tables_.end()) return;  // never allocated (e.g. aborted while waiting)
  const Table& t = it->second;
  std::vector<BlockId> order;  // last block first, groups in order at each position
  order.reserve(static_cast<size_t>(t.num_blocks()) * t.groups.size());
  for (int32_t i = t.num_blocks() - 1; i >= 0; --i)
    for (const std::vector<BlockId>& blocks : t.groups)
      if (blocks[i] != kNullBlock) order.push_back(blocks[i]);
  pool_.release(order);
  tables_.erase(it);
}

std::optional<std::vector<std::pair<BlockId, BlockId>>> KvCacheManager::fork(RequestId parent,
                                                                             RequestId child,
                                                                             int32_t num_tokens) {
  SLUICE_ASSERT(!tables_.contains(child), "fork into an existing request");
  const Table& p = table(parent);
  const int64_t capacity = int64_t{block_size_} * p.num_blocks();
  SLUICE_ASSERT(num_tokens >= 0 && num_tokens <= capacity, "fork past the parent's table");
  const int32_t num_full = num_tokens / block_size_;
  const bool partial = num_tokens % block_size_ != 0;
  if (partial && pool_.num_free_blocks() < num_groups()) return std::nullopt;

  Table t;
  t.groups.resize(windows_.size());
  t.num_cached = num_full;
  std::vector<std::pair<BlockId, BlockId>> copies;
  const std::vector<BlockId> fresh = pool_.allocate(partial ? num_groups() : 0);
  for (int32_t g = 0; g < num_groups(); ++g) {
    t.groups[g].assign(p.groups[g].begin(), p.groups[g].begin() + num_full);
    pool_.touch(without_null(t.groups[g]));
    if (partial) {
      const BlockId src = p.groups[g][num_full];
      SLUICE_ASSERT(src != kNullBlock, "fork of a block the window released");
      copies.emplace_back(src, fresh[g]);
      t.groups[g].push_back(fresh[g]);
    }
  }
  tables_.emplace(child, std::move(t));
  return copies;
}

bool KvCacheManager::has(RequestId id) const {
  return tables_.contains(id);
}

const std::vector<BlockId>& KvCacheManager::block_table(RequestId id, int32_t group) const {
  auto it = tables_.find(id);
  SLUICE_ASSERT(it != tables_.end(), "unknown request");
  SLUICE_ASSERT(group >= 0 && group < num_groups(), "no such KV cache group");
  return it->second.groups[group];
}

int64_t KvCacheManager::max_blocks_held(int64_t num_tokens, int64_t max_step_tokens) const {
  const int64_t bs = block_size_, all = (num_tokens + bs - 1) / bs;
  const int64_t step = std::min(num_tokens, max_step_tokens);
  int64_t total = 0;
  for (int32_t w : windows_)  // a window's span of w - 1 + step positions touches at most this
    total += w == 0 ? all : std::min(all, (w - 1 + step - 1 + bs - 1) / bs + 1);
  return total;
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
