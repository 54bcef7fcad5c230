// Prefix-cache keys: chaining, extra keys, partial blocks and incremental extension.
#include "kv/block_hash.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <numeric>

namespace sluice::kv {
namespace {

std::vector<int32_t> iota_tokens(int n, int32_t start = 100) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), start);
  return t;
}

TEST(BlockHash, HashesParentThenTokenBytes) {
  const std::vector<int32_t> tokens = {7, -1, 1 << 30, 42};
  const BlockHash parent = 0x0123456789abcdefULL;
  unsigned char buf[sizeof(parent) + 4 * sizeof(int32_t)];
  std::memcpy(buf, &parent, sizeof(parent));
  std::memcpy(buf + sizeof(parent), tokens.data(), 4 * sizeof(int32_t));
  EXPECT_EQ(hash_block(parent, tokens), XXH3_64bits(buf, sizeof(buf)));
  EXPECT_EQ(root_hash("salt"), XXH3_64bits("salt", 4));
}

TEST(BlockHash, DependsOnParentTokensAndExtraKeys) {
  const std::vector<int32_t> a = {1, 2, 3, 4};
  const std::vector<int32_t> b = {1, 2, 3, 5};
  EXPECT_EQ(hash_block(7, a), hash_block(7, a));
  EXPECT_NE(hash_block(7, a), hash_block(8, a));
  EXPECT_NE(hash_block(7, a), hash_block(7, b));
  EXPECT_EQ(root_hash(""), root_hash(""));
  EXPECT_NE(root_hash(""), root_hash("salt"));
  EXPECT_NE(root_hash("salt-a"), root_hash("salt-b"));
}

TEST(BlockHash, ExtendChainsFullBlocksOnly) {
  const std::vector<int32_t> tokens = iota_tokens(14);
  const BlockHash root = root_hash("");
  std::vector<BlockHash> hashes;
  extend_block_hashes(hashes, tokens, 4, root);
  ASSERT_EQ(hashes.size(), 3u);  // 14 tokens = 3 full blocks + 2 tokens
  const std::span<const int32_t> t(tokens);
  EXPECT_EQ(hashes[0], hash_block(root, t.subspan(0, 4)));
  EXPECT_EQ(hashes[1], hash_block(hashes[0], t.subspan(4, 4)));
  EXPECT_EQ(hashes[2], hash_block(hashes[1], t.subspan(8, 4)));
}

TEST(BlockHash, IncrementalExtensionMatchesOneShot) {
  const std::vector<int32_t> tokens = iota_tokens(37);
  const BlockHash root = root_hash("x");
  std::vector<BlockHash> once;
  extend_block_hashes(once, tokens, 4, root);
  std::vector<BlockHash> step;
  for (size_t n = 0; n <= tokens.size(); ++n) {
    extend_block_hashes(step, std::span(tokens).first(n), 4, root);
    EXPECT_EQ(step.size(), n / 4);
  }
  EXPECT_EQ(step, once);
}

TEST(BlockHash, ChangedTokenChangesThatBlockAndAllAfter) {
  std::vector<int32_t> a = iota_tokens(16);
  std::vector<int32_t> b = a;
  b[9] = -5;  // inside block 2
  std::vector<BlockHash> ha, hb;
  extend_block_hashes(ha, a, 4, root_hash(""));
  extend_block_hashes(hb, b, 4, root_hash(""));
  EXPECT_EQ(ha[0], hb[0]);
  EXPECT_EQ(ha[1], hb[1]);
  EXPECT_NE(ha[2], hb[2]);
  EXPECT_NE(ha[3], hb[3]);  // same tokens, different parent
}

TEST(BlockHash, DifferentRootChangesEveryBlock) {
  const std::vector<int32_t> tokens = iota_tokens(12);
  std::vector<BlockHash> ha, hb;
  extend_block_hashes(ha, tokens, 4, root_hash(""));
  extend_block_hashes(hb, tokens, 4, root_hash("salt"));
  for (size_t i = 0; i < ha.size(); ++i) EXPECT_NE(ha[i], hb[i]) << i;
}

// Two pictures behind the same placeholder tokens: every block the image touches differs, the
// blocks before it do not; the same picture again hashes the same.
TEST(BlockHash, MediaKeysSeparateDifferentImagesBehindTheSameTokens) {
  const std::vector<int32_t> tokens(20, 9);  // placeholders at [6, 14)
  const BlockHash root = root_hash("");
  const MediaKey a{.start = 6, .length = 8, .hash_lo = 1, .hash_hi = 2};
  MediaKey b = a;
  b.hash_hi = 3;
  std::vector<BlockHash> ha, hb, ha2, plain;
  extend_block_hashes(ha, tokens, 4, root, std::span(&a, 1));
  extend_block_hashes(hb, tokens, 4, root, std::span(&b, 1));
  extend_block_hashes(ha2, tokens, 4, root, std::span(&a, 1));
  extend_block_hashes(plain, tokens, 4, root);
  ASSERT_EQ(ha.size(), 5u);
  EXPECT_EQ(ha, ha2);
  EXPECT_EQ(ha[0], hb[0]);  // [0, 4): before the image
  EXPECT_EQ(ha[0], plain[0]);
  for (int i = 1; i < 4; ++i) EXPECT_NE(ha[i], hb[i]) << i;  // [4, 16) touch [6, 14)
  EXPECT_NE(ha[1], plain[1]);
  EXPECT_NE(ha[4], hb[4]);  // after it: a different parent chain
}

// The same image at another offset within a block is another key.
TEST(BlockHash, MediaKeyOffsetMatters) {
  const std::vector<int32_t> tokens(8, 9);
  const MediaKey a{.start = 0, .length = 4, .hash_lo = 1, .hash_hi = 2};
  MediaKey b = a;
  b.start = 2;
  const auto t = std::span<const int32_t>(tokens).first(4);
  EXPECT_NE(hash_block(5, t, 0, std::span(&a, 1)), hash_block(5, t, 0, std::span(&b, 1)));
  EXPECT_EQ(hash_block(5, t, 4, std::span(&a, 1)), hash_block(5, t));  // not touched: no key
}

}  // namespace
}  // namespace sluice::kv
