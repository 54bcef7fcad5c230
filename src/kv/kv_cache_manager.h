#pragma once
// Per-request block tables on top of the BlockPool (vLLM v1's KVCacheManager): prefix lookup,
// allocate_slots (which says "no room" so the scheduler can preempt), caching of filled blocks,
// free, and fork for n > 1 (full blocks shared, the partial last block copied).
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/block_pool.h"

namespace sluice::kv {

using RequestId = uint64_t;

struct PrefixCacheStats {
  int64_t queries = 0;  // prompt tokens looked up
  int64_t hits = 0;     // of which found cached
};

class KvCacheManager {
 public:
  KvCacheManager(int32_t num_blocks, int32_t block_size, bool enable_prefix_caching);

  int32_t block_size() const;
  const BlockPool& pool() const;

  // Longest chain of cached full blocks matching `block_hashes` (the prompt's full-block hashes),
  // capped so at least one of the num_tokens is left to compute. Changes nothing; counts stats.
  std::vector<BlockId> find_cached_prefix(std::span<const BlockHash> block_hashes,
                                          int32_t num_tokens);
  // Grows the request's table to hold num_tokens_total tokens. For a request with no table yet,
  // `cached_prefix` (from find_cached_prefix) is adopted first (touched). Returns false and changes
  // nothing when the free queue cannot supply the new blocks (free cached-prefix blocks count as
  // taken).
  bool allocate_slots(RequestId id, int32_t num_tokens_total,
                      std::span<const BlockId> cached_prefix = {});
  // Registers hashes of the request's blocks that are full within its first num_computed_tokens
  // (block_hashes covers at least those blocks).
  void cache_blocks(RequestId id, std::span<const BlockHash> block_hashes,
                    int32_t num_computed_tokens);
  // Releases the request's blocks, last block first, so later allocations evict tails first.
  void free(RequestId id);
  // Child shares the parent's first num_tokens tokens: full blocks by ref count, the partial last
  // block (if any) copied into a fresh block. Returns the (src, dst) block copy to perform, or
  // nullopt-in-optional when nothing needs copying; outer nullopt when there is no room.
  std::optional<std::optional<std::pair<BlockId, BlockId>>> fork(RequestId parent, RequestId child,
                                                                 int32_t num_tokens);

  bool has(RequestId id) const;
  const std::vector<BlockId>& block_table(RequestId id) const;
  int32_t num_free_blocks() const;
  double usage() const;
  const PrefixCacheStats& stats() const;
  bool reset_prefix_cache();

 private:
  struct Table {
    std::vector<BlockId> blocks;
    int32_t num_cached = 0;  // leading blocks already hashed (or adopted hashed)
  };
  Table& table(RequestId id);

  int32_t block_size_;
  BlockPool pool_;
  std::unordered_map<RequestId, Table> tables_;
  PrefixCacheStats stats_;
};

}  // namespace sluice::kv
