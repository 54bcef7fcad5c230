// KvCacheManager with exact block ids: prefix hits, the one-token cap, lazy eviction order,
// failed allocations and fork (one full-attention group; random_sim_test.cc runs random ops).
#include "kv/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string_view>

#include "kv_test_util.h"

namespace sluice::kv {
namespace {

using Ids = std::vector<BlockId>;
using testing::hashes_of;
using testing::kBs;
using testing::ref_counts;
using testing::seq;

// Prefix lookup, allocation of the whole prompt, and caching of its full blocks.
Ids admit(KvCacheManager& m, RequestId id, std::span<const int32_t> tokens,
          std::string_view salt = "") {
  const std::vector<BlockHash> h = hashes_of(tokens, salt);
  const int32_t n = static_cast<int32_t>(tokens.size());
  const CachedPrefix hits = m.find_cached_prefix(h, n);
  EXPECT_TRUE(m.allocate_slots(id, n, hits));
  m.cache_blocks(id, h, n);
  return hits.blocks[0];
}

// Group 0's blocks of the longest cached prefix.
Ids prefix(KvCacheManager& m, std::span<const BlockHash> hashes, int32_t num_tokens) {
  return m.find_cached_prefix(hashes, num_tokens).blocks[0];
}

TEST(KvCacheManager, PrefixHitAcrossRequests) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> a = seq(14);
  EXPECT_EQ(admit(m, 1, a), Ids{});
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  EXPECT_TRUE(m.pool().hash_of(3).has_value());
  EXPECT_FALSE(m.pool().hash_of(4).has_value());  // partial block

  std::vector<int32_t> b(a.begin(), a.begin() + 12);
  b.insert(b.end(), {7, 7, 7});
  EXPECT_EQ(admit(m, 2, b), (Ids{1, 2, 3}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 3, 5}));
  EXPECT_EQ(ref_counts(m.pool()), (std::vector<int32_t>{0, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 7, 8, 9, 10}));
  EXPECT_EQ(m.stats().queries, 14 + 15);
  EXPECT_EQ(m.stats().hits, 12);
}

TEST(KvCacheManager, DifferentSaltGivesNoHit) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  EXPECT_EQ(admit(m, 2, seq(14), "tenant-b"), Ids{});
  EXPECT_EQ(m.block_table(2), (Ids{5, 6, 7, 8}));
  EXPECT_EQ(admit(m, 3, seq(14), "tenant-b"), (Ids{5, 6, 7}));
  EXPECT_EQ(m.stats().hits, 12);
}

TEST(KvCacheManager, ChangedTokenInBlock2HitsOnlyBlocks0And1) {
  KvCacheManager m(11, kBs, true);
  std::vector<int32_t> a = seq(16);
  admit(m, 1, a);
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  a[9] = -3;
  EXPECT_EQ(admit(m, 2, a), (Ids{1, 2}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 5, 6}));
}

// A recurrent model hits only where a state snapshot ends: accept_end picks the longest admitted
// end, and allocation adopts only those blocks.
TEST(KvCacheManager, HitEndsWhereAcceptEndAdmits) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> a = seq(14);
  admit(m, 1, a);  // blocks 1-3 full and cached, 4 partial
  std::vector<int32_t> b(a.begin(), a.begin() + 12);
  b.insert(b.end(), {7, 7, 7});
  const std::vector<BlockHash> h = hashes_of(b);
  std::vector<int32_t> asked;
  const CachedPrefix two = m.find_cached_prefix(h, 15, [&](int32_t k) {
    asked.push_back(k);
    return k == 2;
  });
  EXPECT_EQ(asked, (std::vector<int32_t>{3, 2, 2}));  // longest first, then confirmed
  EXPECT_EQ(two.num_blocks, 2);
  EXPECT_EQ(two.blocks[0], (Ids{1, 2}));
  EXPECT_EQ(m.stats().hits, 8);
  EXPECT_EQ(m.find_cached_prefix(h, 15, [](int32_t k) { return k <= 3; }).blocks[0],
            (Ids{1, 2, 3}));
  EXPECT_TRUE(m.find_cached_prefix(h, 15, [](int32_t) { return false; }).empty());
  ASSERT_TRUE(m.allocate_slots(2, 15, two));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 5, 6}));
  EXPECT_EQ(m.pool().ref_count(3), 1);  // block 2's copy is recomputed, not shared
}

TEST(KvCacheManager, HitOnFreedBlockPullsItOffFreeQueue) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  m.free(1);
  EXPECT_FALSE(m.has(1));
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 4, 3, 2, 1}));  // tail first
  EXPECT_EQ(admit(m, 2, seq(14)), (Ids{1, 2, 3}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 3, 5}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 7, 8, 9, 10, 4}));
  EXPECT_EQ(m.pool().ref_count(1), 1);
  EXPECT_EQ(m.num_free_blocks(), 6);
}

TEST(KvCacheManager, LazyEvictionLeastRecentlyFreedAndTailsFirst) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> a = seq(8, 100);
  const std::vector<int32_t> b = seq(8, 200);
  admit(m, 1, a);  // {1, 2}
  admit(m, 2, b);  // {3, 4}
  m.free(1);
  m.free(2);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 2, 1, 4, 3}));
  admit(m, 3, seq(28, 300));  // 7 blocks: evicts A's tail block 2, keeps its head block 1
  EXPECT_EQ(m.block_table(3), (Ids{5, 6, 7, 8, 9, 10, 2}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{1, 4, 3}));
  const std::vector<BlockHash> ha = hashes_of(a);
  EXPECT_EQ(m.pool().lookup(ha[0]), 1);
  EXPECT_EQ(m.pool().lookup(ha[1]), std::nullopt);

  std::vector<int32_t> a9 = a;
  a9.push_back(1);
  std::vector<int32_t> b9 = b;
  b9.push_back(1);
  EXPECT_EQ(prefix(m, hashes_of(a9), 9), (Ids{1}));
  EXPECT_EQ(prefix(m, hashes_of(b9), 9), (Ids{3, 4}));
}

TEST(KvCacheManager, AtLeastOneTokenLeftToCompute) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(8));  // {1, 2}, both full and cached
  EXPECT_EQ(m.pool().lookup(hashes_of(seq(8))[1]), 2);
  EXPECT_EQ(admit(m, 2, seq(8)), (Ids{1}));  // exactly 2 full blocks: only 1 hit
  EXPECT_EQ(m.block_table(2), (Ids{1, 3}));
  EXPECT_EQ(prefix(m, hashes_of(seq(9)), 9), (Ids{1, 2}));
  EXPECT_EQ(prefix(m, hashes_of(seq(4)), 4), Ids{});
  EXPECT_EQ(prefix(m, {}, 0), Ids{});
  EXPECT_EQ(m.stats().queries, 8 + 8 + 9 + 4);
  EXPECT_EQ(m.stats().hits, 4 + 8);
}

TEST(KvCacheManager, FailedAllocationChangesNothing) {
  KvCacheManager m(7, kBs, true);  // 6 usable blocks
  const std::vector<int32_t> a = seq(12);
  admit(m, 1, a);  // {1, 2, 3}, all cached
  m.free(1);
  admit(m, 2, seq(8, 900));  // {4, 5}
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 3, 2, 1}));

  // 20 tokens: 3 hits + 2 new, but 3 of the 4 free blocks are the hits themselves.
  std::vector<int32_t> c = a;
  c.insert(c.end(), 8, 5);
  const std::vector<BlockHash> hc = hashes_of(c);
  const CachedPrefix hits = m.find_cached_prefix(hc, 20);
  EXPECT_EQ(hits.blocks[0], (Ids{1, 2, 3}));
  const auto refs = ref_counts(m.pool());
  const Ids queue = m.pool().free_queue();
  EXPECT_FALSE(m.allocate_slots(3, 20, hits));
  EXPECT_FALSE(m.has(3));
  EXPECT_FALSE(m.allocate_slots(2, 28));  // 7 blocks: 5 more needed, 4 free
  EXPECT_EQ(m.block_table(2), (Ids{4, 5}));
  EXPECT_EQ(ref_counts(m.pool()), refs);
  EXPECT_EQ(m.pool().free_queue(), queue);
  EXPECT_EQ(m.pool().lookup(hc[2]), 3);

  EXPECT_TRUE(m.allocate_slots(2, 12));  // one more block for request 2
  EXPECT_EQ(m.block_table(2), (Ids{4, 5, 6}));
  m.free(2);
  EXPECT_EQ(m.pool().free_queue(), (Ids{3, 2, 1, 6, 5, 4}));
  EXPECT_TRUE(m.allocate_slots(3, 20, hits));
  EXPECT_EQ(m.block_table(3), (Ids{1, 2, 3, 6, 5}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{4}));
}

TEST(KvCacheManager, GrowsAndCachesIncrementally) {
  KvCacheManager m(11, kBs, true);
  std::vector<int32_t> t = seq(5);
  EXPECT_TRUE(m.allocate_slots(1, 5));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2}));
  m.cache_blocks(1, hashes_of(t), 3);  // chunked prefill: no full block computed yet
  EXPECT_FALSE(m.pool().hash_of(1).has_value());
  m.cache_blocks(1, hashes_of(t), 5);
  EXPECT_EQ(m.pool().hash_of(1), hashes_of(t)[0]);
  EXPECT_FALSE(m.pool().hash_of(2).has_value());
  t = seq(8);
  EXPECT_TRUE(m.allocate_slots(1, 8));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2}));
  m.cache_blocks(1, hashes_of(t), 8);
  EXPECT_EQ(m.pool().hash_of(2), hashes_of(t)[1]);
  EXPECT_TRUE(m.allocate_slots(1, 9));
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3}));
  EXPECT_TRUE(m.allocate_slots(1, 2));  // shrinking asks for nothing
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3}));
}

TEST(KvCacheManager, CachingDisabled) {
  KvCacheManager m(11, kBs, false);
  EXPECT_EQ(admit(m, 1, seq(14)), Ids{});
  EXPECT_EQ(m.block_table(1), (Ids{1, 2, 3, 4}));
  EXPECT_FALSE(m.pool().hash_of(1).has_value());
  m.free(1);
  EXPECT_EQ(admit(m, 2, seq(14)), Ids{});
  EXPECT_EQ(m.block_table(2), (Ids{5, 6, 7, 8}));
  EXPECT_EQ(m.stats().queries, 0);
  EXPECT_EQ(m.stats().hits, 0);
}

TEST(KvCacheManager, ForkSharesFullBlocksAndCopiesPartial) {
  KvCacheManager m(11, kBs, true);
  const std::vector<int32_t> p = seq(10);
  admit(m, 1, p);  // {1, 2, 3}
  const auto f1 = m.fork(1, 2, 10);
  ASSERT_TRUE(f1.has_value());
  ASSERT_EQ(f1->size(), 1u);
  EXPECT_EQ((*f1)[0], (std::pair<BlockId, BlockId>{3, 4}));
  EXPECT_EQ(m.block_table(2), (Ids{1, 2, 4}));
  const auto f2 = m.fork(1, 3, 8);
  ASSERT_TRUE(f2.has_value());
  EXPECT_TRUE(f2->empty());
  EXPECT_EQ(m.block_table(3), (Ids{1, 2}));
  EXPECT_EQ(ref_counts(m.pool()), (std::vector<int32_t>{0, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0}));

  // The child caches its own third block once it fills it (blocks 0-1 count as cached).
  std::vector<int32_t> c = p;
  c.insert(c.end(), {55, 56});
  const std::vector<BlockHash> hc = hashes_of(c);
  m.cache_blocks(2, hc, 12);
  EXPECT_EQ(m.pool().hash_of(4), hc[2]);
  EXPECT_FALSE(m.pool().hash_of(3).has_value());

  m.free(1);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 3}));
  m.free(2);
  m.free(3);
  EXPECT_EQ(m.pool().free_queue(), (Ids{5, 6, 7, 8, 9, 10, 3, 4, 2, 1}));
  EXPECT_EQ(m.num_free_blocks(), 10);
}

TEST(KvCacheManager, ForkWithoutRoomChangesNothing) {
  KvCacheManager m(4, kBs, true);  // 3 usable blocks
  admit(m, 1, seq(10));            // {1, 2, 3}
  const auto refs = ref_counts(m.pool());
  EXPECT_FALSE(m.fork(1, 2, 10).has_value());
  EXPECT_FALSE(m.has(2));
  EXPECT_EQ(ref_counts(m.pool()), refs);
  const auto f = m.fork(1, 2, 8);  // only full blocks: no room needed
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->empty());
  EXPECT_EQ(m.block_table(2), (Ids{1, 2}));
}

TEST(KvCacheManager, ResetPrefixCache) {
  KvCacheManager m(11, kBs, true);
  admit(m, 1, seq(14));
  EXPECT_FALSE(m.reset_prefix_cache());
  EXPECT_EQ(prefix(m, hashes_of(seq(14)), 14), (Ids{1, 2, 3}));
  m.free(1);
  EXPECT_TRUE(m.reset_prefix_cache());
  EXPECT_EQ(prefix(m, hashes_of(seq(14)), 14), Ids{});
  EXPECT_EQ(m.num_free_blocks(), 10);
  EXPECT_DOUBLE_EQ(m.usage(), 0.0);
}

TEST(KvCacheManager, FreeOfUnknownRequestIsNoop) {
  KvCacheManager m(5, kBs, true);
  m.free(42);
  EXPECT_EQ(m.num_free_blocks(), 4);
}

TEST(KvCacheManagerDeathTest, CachedPrefixForRunningRequestAborts) {
  EXPECT_DEATH(
      {
        KvCacheManager m(11, kBs, true);
        admit(m, 1, seq(14));
        CachedPrefix hits;
        hits.num_blocks = 1;
        hits.blocks = {Ids{1}};
        m.allocate_slots(1, 20, hits);
      },
      "cached_prefix given for a running request");
  EXPECT_DEATH(
      {
        KvCacheManager m(4, kBs, true);
        admit(m, 1, seq(8));  // {1, 2}
        m.free(1);
        const CachedPrefix hits = m.find_cached_prefix(hashes_of(seq(9)), 9);  // {1, 2}
        m.allocate_slots(2, 12);                                               // evicts 3, 2, 1
        m.allocate_slots(3, 9, hits);
      },
      "cached_prefix block no longer cached");
}

}  // namespace
}  // namespace sluice::kv
