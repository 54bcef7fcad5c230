#pragma once
// Prefix-cache keys: a full block's hash chains its parent block's hash, its token ids and the
// request's extra keys (cache salt, image content hashes), so equal hashes mean equal prefixes.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::kv {

using BlockId = int32_t;
using BlockHash = uint64_t;

// Parent hash of a sequence's first block; depends only on the extra keys ("" = none).
BlockHash root_hash(std::string_view extra_keys);
// hash(parent, tokens of one full block).
BlockHash hash_block(BlockHash parent, std::span<const int32_t> block_tokens);
// Appends the hashes of full blocks of `tokens` not yet in `hashes` (hashes.size() full blocks
// are already hashed); a partial last block gets no hash.
void extend_block_hashes(std::vector<BlockHash>& hashes, std::span<const int32_t> tokens,
                         int32_t block_size, BlockHash root);
// The prefix-cache key of a block of KV cache group `group` (each group caches its own blocks);
// group 0's key is the hash itself.
BlockHash group_hash(BlockHash hash, int32_t group);

}  // namespace sluice::kv
