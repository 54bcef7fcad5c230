#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include "kv/block_hash.h"

#include <xxhash.h>

#include "common/assert.h"

namespace sluice::kv {

BlockHash root_hash(std::string_view extra_keys) {
  return XXH3_64bits(extra_keys.data(), extra_keys.size());
}

BlockHash hash_block(BlockHash parent, std::span<const int32_t> block_tokens) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, &parent, sizeof(parent));
  XXH3_64bits_update(&state, block_tokens.data(), block_tokens.size_bytes());
  return XXH3_64bits_digest(&state);
}

BlockHash hash_block(BlockHash parent, std::span<const int32_t> block_tokens, int32_t block_start,
                     std::span<const MediaKey> media) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, &parent, sizeof(parent));
  XXH3_64bits_update(&state, block_tokens.data(), block_tokens.size_bytes());
  const int32_t block_end = block_start + static_cast<int32_t>(block_tokens.size());
  bool touched = false;
  for (const MediaKey& m : media) {
    if (m.start >= block_end || m.start + m.length <= block_start) continue;
    // The offset of the block within the image tells its rows apart.
    const int32_t key[2] = {m.start - block_start, m.length};
    XXH3_64bits_update(&state, key, sizeof(key));
    XXH3_64bits_update(&state, &m.hash_lo, sizeof(m.hash_lo));
    XXH3_64bits_update(&state, &m.hash_hi, sizeof(m.hash_hi));
    touched = true;
  }
  return touched ? XXH3_64bits_digest(&state) : hash_block(parent, block_tokens);
}

void extend_block_hashes(std::vector<BlockHash>& hashes, std::span<const int32_t> tokens,
                         int32_t block_size, BlockHash root, std::span<const MediaKey> media) {
  SLUICE_ASSERT(block_size > 0, "block_size must be positive");
  const size_t num_full = tokens.size() / static_cast<size_t>(block_size);
  for (size_t i = hashes.size(); i < num_full; ++i) {
    const BlockHash parent = i == 0 ? root : hashes[i - 1];
    const auto block = tokens.subspan(i * block_size, block_size);
    hashes.push_back(media.empty()
                         ? hash_block(parent, block)
                         : hash_block(parent, block, static_cast<int32_t>(i) * block_size, media));
  }
}

BlockHash group_hash(BlockHash hash, int32_t group) {
  return group == 0 ? hash
                    : XXH3_64bits_withSeed(&hash, sizeof(hash), static_cast<uint64_t>(group));
}

}  // namespace sluice::kv
