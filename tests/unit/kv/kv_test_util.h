#pragma once
// Helpers for the KV cache tests: the block size they use, token runs, their block hashes and the
// pool's ref counts.
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "kv/block_hash.h"
#include "kv/block_pool.h"

namespace sluice::kv::testing {

constexpr int32_t kBs = 4;  // tokens per block

// n consecutive token ids from `start`.
inline std::vector<int32_t> seq(int n, int32_t start = 1000) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), start);
  return t;
}

// The hashes of the full blocks of `tokens` (blocks of kBs), salted with `salt`.
inline std::vector<BlockHash> hashes_of(std::span<const int32_t> tokens,
                                        std::string_view salt = "") {
  std::vector<BlockHash> h;
  extend_block_hashes(h, tokens, kBs, root_hash(salt));
  return h;
}

// Every block's ref count, the null block's included.
inline std::vector<int32_t> ref_counts(const BlockPool& pool) {
  std::vector<int32_t> r;
  for (BlockId b = 0; b < pool.num_blocks(); ++b) r.push_back(pool.ref_count(b));
  return r;
}

}  // namespace sluice::kv::testing
