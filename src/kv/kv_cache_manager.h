#pragma once
// Per-request block tables on top of the BlockPool (vLLM v1's KVCacheManager with its hybrid
// allocator's KV cache groups): prefix lookup, allocate_slots (which says "no room" so the
// scheduler can preempt), caching of filled blocks, release of blocks a sliding window has left,
// free, and fork for n > 1 (full blocks shared, the partial last block copied).
//
// A KV cache group is a set of layers with one block table per request; a block id names one
// page in each of the group's layers, so every group draws from the one pool. A full-attention
// group keeps every block; a sliding-window group (window w: position p reads (p - w, p]) swaps
// the blocks no token still to compute reads for the null block 0 and releases them:
//
//   positions   0    16   32   48   64   80      block size 16, window 32, 80 tokens computed
//   full      [ 1 ][ 2 ][ 3 ][ 4 ][ 5 ]
//   sliding   [ 0 ][ 0 ][ 0 ][ 9 ][ 10]          token 80 reads (48, 80]: blocks 3 and 4 on
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/block_pool.h"

namespace sluice::kv {

using RequestId = uint64_t;
constexpr BlockId kNullBlock = 0;

struct PrefixCacheStats {
  int64_t queries = 0;  // prompt tokens looked up
  int64_t hits = 0;     // of which found cached
};

// A prefix-cache hit: the prompt's first num_blocks blocks, per group ([num_groups][num_blocks]);
// a sliding group's blocks before its window are the null block.
struct CachedPrefix {
  int32_t num_blocks = 0;
  std::vector<std::vector<BlockId>> blocks;
  bool empty() const { return num_blocks == 0; }
};

class KvCacheManager {
 public:
  // group_windows: per KV cache group, 0 (full attention) or its sliding window in positions.
  KvCacheManager(int32_t num_blocks, int32_t block_size, bool enable_prefix_caching,
                 std::vector<int32_t> group_windows = {0});

  int32_t block_size() const;
  int32_t num_groups() const;
  const BlockPool& pool() const;

  // Longest prefix of the prompt (block_hashes: its full blocks' hashes) every group still holds:
  // full groups all its blocks, sliding groups those their window reads from its end. Capped so
  // at least one of the num_tokens is left to compute. accept_end, when given, admits only hits
  // of k blocks with accept_end(k) (e.g. a recurrent state snapshot at block k's end); the
  // longest admitted one is returned. Changes nothing; counts stats.
  CachedPrefix find_cached_prefix(std::span<const BlockHash> block_hashes, int32_t num_tokens,
                                  const std::function<bool(int32_t)>& accept_end = {});
  // Grows the request's tables to hold num_tokens_total tokens. For a request with no table yet,
  // `cached` (from find_cached_prefix) is adopted first (touched). Returns false and changes
  // nothing when the free queue cannot supply the new blocks (free cached-prefix blocks count as
  // taken).
  bool allocate_slots(RequestId id, int32_t num_tokens_total, const CachedPrefix& cached = {});
  // Registers hashes of the request's blocks that are full within its first num_computed_tokens
  // (block_hashes covers at least those blocks).
  void cache_blocks(RequestId id, std::span<const BlockHash> block_hashes,
                    int32_t num_computed_tokens);
  // Sliding groups: releases the blocks that no token from num_computed_tokens on reads (last
  // block first; they stay cached until evicted). After cache_blocks, so they keep their hashes.
  void free_outside_window(RequestId id, int32_t num_computed_tokens);
  // Releases the request's blocks, last block first, so later allocations evict tails first.
  void free(RequestId id);
  // Child shares the parent's first num_tokens tokens: full blocks by ref count, the partial last
  // block (if any) copied into a fresh block per group. Returns the (src, dst) block copies to
  // perform (none when num_tokens fills whole blocks); nullopt when there is no room.
  std::optional<std::vector<std::pair<BlockId, BlockId>>> fork(RequestId parent, RequestId child,
                                                               int32_t num_tokens);

  bool has(RequestId id) const;
  const std::vector<BlockId>& block_table(RequestId id, int32_t group = 0) const;
  // The most blocks one request of num_tokens tokens holds at once, computing at most
  // max_step_tokens of them per step (a sliding group holds its window plus a step's tokens).
  int64_t max_blocks_held(int64_t num_tokens, int64_t max_step_tokens) const;
  int32_t num_free_blocks() const;
  double usage() const;
  const PrefixCacheStats& stats() const;
  bool reset_prefix_cache();

 private:
  struct Table {
    std::vector<std::vector<BlockId>> groups;  // [num_groups][num_blocks]
    int32_t num_cached = 0;                    // leading blocks already hashed (or adopted hashed)
    int32_t num_blocks() const { return static_cast<int32_t>(groups[0].size()); }
  };
  Table& table(RequestId id);
  // The first block a token at position `pos` or later reads in group g.
  int32_t first_read_block(int32_t g, int64_t pos) const;
  bool is_cached(int32_t g, BlockHash hash) const;
  // Sliding group g: the longest hit of at most max_blocks blocks whose window blocks g holds.
  int32_t window_hit(int32_t g, std::span<const BlockHash> block_hashes, int32_t max_blocks) const;
  // The longest hit of at most max_blocks blocks every group holds.
  int32_t longest_hit(std::span<const BlockHash> block_hashes, int32_t max_blocks) const;

  int32_t block_size_;
  std::vector<int32_t> windows_;  // [num_groups]
  BlockPool pool_;
  std::unordered_map<RequestId, Table> tables_;
  PrefixCacheStats stats_;
};

}  // namespace sluice::kv
