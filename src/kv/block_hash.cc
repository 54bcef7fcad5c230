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

void extend_block_hashes(std::vector<BlockHash>& hashes, std::span<const int32_t> tokens,
                         int32_t block_size, BlockHash root) {
  SLUICE_ASSERT(block_size > 0, "block_size must be positive");
  const size_t num_full = tokens.size() / static_cast<size_t>(block_size);
  for (size_t i = hashes.size(); i < num_full; ++i) {
    const BlockHash parent = i == 0 ? root : hashes[i - 1];
    hashes.push_back(hash_block(parent, tokens.subspan(i * block_size, block_size)));
  }
}

BlockHash group_hash(BlockHash hash, int32_t group) {
  return group == 0 ? hash
                    : XXH3_64bits_withSeed(&hash, sizeof(hash), static_cast<uint64_t>(group));
}

}  // namespace sluice::kv
