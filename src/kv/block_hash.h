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

// An image (or other media) whose embeddings fill tokens [start, start + length) of a sequence:
// every block those tokens touch mixes in its content hash, so two pictures behind the same
// placeholder tokens never share KV.
struct MediaKey {
  int32_t start = 0, length = 0;
  uint64_t hash_lo = 0, hash_hi = 0;  // the content hash (128 bits)
};

// Parent hash of a sequence's first block; depends only on the extra keys ("" = none).
BlockHash root_hash(std::string_view extra_keys);
// hash(parent, tokens of one full block, the media keys touching it with their offsets).
BlockHash hash_block(BlockHash parent, std::span<const int32_t> block_tokens);
BlockHash hash_block(BlockHash parent, std::span<const int32_t> block_tokens, int32_t block_start,
                     std::span<const MediaKey> media);
// Appends the hashes of full blocks of `tokens` not yet in `hashes` (hashes.size() full blocks
// are already hashed); a partial last block gets no hash. `media`: sorted by start.
void extend_block_hashes(std::vector<BlockHash>& hashes, std::span<const int32_t> tokens,
                         int32_t block_size, BlockHash root, std::span<const MediaKey> media = {});
// The prefix-cache key of a block of KV cache group `group` (each group caches its own blocks);
// group 0's key is the hash itself.
BlockHash group_hash(BlockHash hash, int32_t group);

}  // namespace sluice::kv
