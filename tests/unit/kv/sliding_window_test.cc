// KvCacheManager with a full-attention group and a sliding-window group (window 8, blocks of 4:
// a token at p reads (p - 8, p], from block (p - 7) / 4 on), with exact block ids: release during
// decode and chunked prefill, prefix hits that need only the window's blocks (and stop where one
// was evicted), fork, preemption and recompute, and the worst-case blocks a request holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "kv/kv_cache_manager.h"
#include "kv_test_util.h"

namespace sluice::kv {
namespace {

using Ids = std::vector<BlockId>;
using testing::hashes_of;
using testing::kBs;
using testing::seq;
constexpr int32_t kFull = 0, kSliding = 1;

// 20 usable blocks; group 0 full attention, group 1 a window of 8.
KvCacheManager manager() {
  return KvCacheManager(21, kBs, true, {0, 8});
}

// One engine step for request id: grow to `target` tokens, cache, release what the window left.
void step(KvCacheManager& m, RequestId id, const std::vector<int32_t>& tokens, int32_t target) {
  ASSERT_TRUE(m.allocate_slots(id, target));
  m.cache_blocks(id, hashes_of(tokens), target);
  m.free_outside_window(id, target);
}

TEST(SlidingWindow, DecodeReleasesEachBlockTheWindowLeaves) {
  KvCacheManager m = manager();
  const std::vector<int32_t> t = seq(16);
  step(m, 1, t, 8);  // token 8 reads (0, 8]: block 0 still
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{3, 4}));
  step(m, 1, t, 12);  // token 12 reads from 5: block 0 goes
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 5}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 4, 6}));
  EXPECT_EQ(m.pool().ref_count(3), 0);
  EXPECT_EQ(m.pool().hash_of(3), group_hash(hashes_of(t)[0], kSliding));  // still cached
  step(m, 1, t, 13);
  step(m, 1, t, 14);
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 4, 6, 8}));
  step(m, 1, t, 15);  // token 15 reads from 8: block 1 goes
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 5, 7}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 0, 6, 8}));
  EXPECT_EQ(m.num_free_blocks(), 20 - 6);
  Ids queue(m.pool().free_queue());
  EXPECT_EQ(Ids(queue.end() - 2, queue.end()), (Ids{3, 4}));

  m.free(1);  // last block first, the full group's before the sliding one's at each position
  queue = m.pool().free_queue();
  EXPECT_EQ(Ids(queue.end() - 6, queue.end()), (Ids{7, 8, 5, 6, 2, 1}));
  EXPECT_EQ(m.num_free_blocks(), 20);
}

// A 20-token chunk (longer than the window) gets blocks for all of it, and gives back the three
// sliding blocks that token 20 no longer reads right after the step.
TEST(SlidingWindow, ChunkBeyondTheWindowReleasesWhatItLeft) {
  KvCacheManager m = manager();
  const std::vector<int32_t> t = seq(21);
  ASSERT_TRUE(m.allocate_slots(1, 20));
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{6, 7, 8, 9, 10}));
  m.cache_blocks(1, hashes_of(t), 20);
  m.free_outside_window(1, 20);
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 0, 0, 9, 10}));
  EXPECT_EQ(m.pool().free_queue(), (Ids{11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 8, 7, 6}));
  ASSERT_TRUE(m.allocate_slots(1, 21));
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 3, 4, 5, 11}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 0, 0, 9, 10, 12}));
  m.free_outside_window(1, 20);  // again: nothing more to release
  EXPECT_EQ(m.num_free_blocks(), 20 - 9);
}

// Request 1 holds 20 computed tokens; its sliding blocks 0-2 (ids 6, 7, 8) are free but cached.
class SlidingPrefix : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_.allocate_slots(1, 20));
    m_.cache_blocks(1, hashes_of(a_), 20);
    m_.free_outside_window(1, 20);
  }
  KvCacheManager m_ = manager();
  const std::vector<int32_t> a_ = seq(20);
};

TEST_F(SlidingPrefix, HitNeedsOnlyTheBlocksTheWindowReads) {
  std::vector<int32_t> b = a_;
  b.insert(b.end(), {1, 2, 3, 4, 5});
  const CachedPrefix hit = m_.find_cached_prefix(hashes_of(b), 25);
  EXPECT_EQ(hit.num_blocks, 5);  // token 20 reads (12, 20]: sliding blocks 3 and 4
  EXPECT_EQ(hit.blocks[kFull], (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(hit.blocks[kSliding], (Ids{0, 0, 0, 9, 10}));
  ASSERT_TRUE(m_.allocate_slots(2, 25, hit));
  EXPECT_EQ(m_.block_table(2, kFull), (Ids{1, 2, 3, 4, 5, 11, 12}));
  EXPECT_EQ(m_.block_table(2, kSliding), (Ids{0, 0, 0, 9, 10, 13, 14}));
  EXPECT_EQ(m_.pool().ref_count(9), 2);
  EXPECT_EQ(m_.stats().hits, 20);
}

TEST_F(SlidingPrefix, HitOnFreedWindowBlocksTakesThemOffTheFreeQueue) {
  std::vector<int32_t> b(a_.begin(), a_.begin() + 16);
  b.insert(b.end(), {1, 2, 3});
  const CachedPrefix hit = m_.find_cached_prefix(hashes_of(b), 19);
  EXPECT_EQ(hit.num_blocks, 4);  // token 16 reads (8, 16]: sliding blocks 2 (free) and 3
  EXPECT_EQ(hit.blocks[kSliding], (Ids{0, 0, 8, 9}));
  ASSERT_TRUE(m_.allocate_slots(2, 19, hit));
  EXPECT_EQ(m_.block_table(2, kSliding), (Ids{0, 0, 8, 9, 12}));
  EXPECT_EQ(m_.pool().free_queue(), (Ids{13, 14, 15, 16, 17, 18, 19, 20, 7, 6}));
}

TEST_F(SlidingPrefix, HitStopsBelowEvictedWindowBlocks) {
  ASSERT_TRUE(m_.allocate_slots(3, 6 * kBs));  // 12 blocks: 11..20, then 8 and 7 (evicted)
  EXPECT_EQ(m_.pool().free_queue(), (Ids{6}));
  std::vector<int32_t> b(a_.begin(), a_.begin() + 16);
  b.insert(b.end(), {1, 2, 3});
  // At 4 blocks the window reads sliding blocks 2-3, at 2 blocks 0-1: blocks 2 and 1 are gone;
  // at 1 block it reads block 0, still cached.
  const CachedPrefix hit = m_.find_cached_prefix(hashes_of(b), 19);
  EXPECT_EQ(hit.num_blocks, 1);
  EXPECT_EQ(hit.blocks[kFull], (Ids{1}));
  EXPECT_EQ(hit.blocks[kSliding], (Ids{6}));
  EXPECT_EQ(m_.stats().hits, 4);
  m_.free(3);
  ASSERT_TRUE(m_.allocate_slots(2, 19, hit));
  EXPECT_EQ(m_.pool().ref_count(6), 1);
}

TEST(SlidingWindow, ForkSharesTheWindowAndCopiesThePartialBlockPerGroup) {
  KvCacheManager m = manager();
  const std::vector<int32_t> t = seq(14);
  step(m, 1, t, 14);  // token 14 reads from 7: sliding block 0 goes
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 3, 4}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 6, 7, 8}));
  const auto copies = m.fork(1, 2, 14);
  ASSERT_TRUE(copies.has_value());
  EXPECT_EQ(*copies, (std::vector<std::pair<BlockId, BlockId>>{{4, 9}, {8, 10}}));
  EXPECT_EQ(m.block_table(2, kFull), (Ids{1, 2, 3, 9}));
  EXPECT_EQ(m.block_table(2, kSliding), (Ids{0, 6, 7, 10}));
  const auto whole = m.fork(1, 3, 12);
  ASSERT_TRUE(whole.has_value());
  EXPECT_TRUE(whole->empty());
  EXPECT_EQ(m.block_table(3, kSliding), (Ids{0, 6, 7}));
  EXPECT_EQ(m.pool().ref_count(6), 3);
  EXPECT_EQ(m.pool().ref_count(8), 1);
  for (RequestId id : {1, 2, 3}) m.free(id);
  EXPECT_EQ(m.num_free_blocks(), 20);
}

TEST(SlidingWindow, ForkWithoutABlockPerGroupChangesNothing) {
  KvCacheManager m(9, kBs, true, {0, 8});  // 8 usable
  step(m, 1, seq(14), 14);                 // 8 blocks, one released: 1 free
  ASSERT_TRUE(m.fork(1, 3, 12).has_value());
  const Ids queue = m.pool().free_queue();
  EXPECT_FALSE(m.fork(1, 4, 14).has_value());  // a copy per group: 2 blocks
  EXPECT_FALSE(m.has(4));
  EXPECT_EQ(m.pool().free_queue(), queue);
}

// Preempted (freed) after 20 tokens, then admitted again with its sampled token: the prefix cache
// serves 20 tokens, the window's blocks included, and one token is recomputed.
TEST(SlidingWindow, PreemptedRequestRecomputesOnlyPastTheCachedWindow) {
  KvCacheManager m = manager();
  std::vector<int32_t> t = seq(20);
  step(m, 1, t, 20);
  t.push_back(7);
  m.free(1);
  EXPECT_EQ(m.pool().free_queue(),
            (Ids{11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 8, 7, 6, 5, 10, 4, 9, 3, 2, 1}));
  const CachedPrefix hit = m.find_cached_prefix(hashes_of(t), 21);
  EXPECT_EQ(hit.num_blocks, 5);
  EXPECT_EQ(hit.blocks[kSliding], (Ids{0, 0, 0, 9, 10}));
  ASSERT_TRUE(m.allocate_slots(1, 21, hit));
  EXPECT_EQ(m.block_table(1, kFull), (Ids{1, 2, 3, 4, 5, 11}));
  EXPECT_EQ(m.block_table(1, kSliding), (Ids{0, 0, 0, 9, 10, 12}));
  m.free(1);
  EXPECT_EQ(m.num_free_blocks(), 20);
}

TEST(SlidingWindow, FailedAllocationWithAHitChangesNothing) {
  KvCacheManager m = manager();
  step(m, 1, seq(20), 20);  // holds 7 blocks, 13 free (3 of them cached sliding blocks)
  std::vector<int32_t> b = seq(20);
  b.resize(20 + 6 * kBs, 5);  // 5 blocks hit per group; 45 tokens need 7 more each: 14 > 13
  const CachedPrefix hit = m.find_cached_prefix(hashes_of(b), static_cast<int32_t>(b.size()));
  ASSERT_EQ(hit.num_blocks, 5);
  const Ids queue = m.pool().free_queue();
  EXPECT_FALSE(m.allocate_slots(2, static_cast<int32_t>(b.size()) + 1, hit));
  EXPECT_FALSE(m.has(2));
  EXPECT_EQ(m.pool().free_queue(), queue);
  EXPECT_TRUE(m.allocate_slots(2, static_cast<int32_t>(b.size()), hit));  // 6 + 6 fit
}

// One sliding group (window 8). Request 1's 17 tokens leave blocks 0-3 cached; then block 1's
// page is evicted. A hit of 4 blocks reads blocks 2-3 and holds; an admitted end of 3 reads 1-2,
// of 2 reads 0-1 (both gone), of 1 reads block 0 (cached): a shorter end needs its own window.
TEST(SlidingWindow, AdmittedShorterHitNeedsItsOwnWindow) {
  KvCacheManager m(7, kBs, true, {8});
  const std::vector<int32_t> t = seq(17);
  step(m, 1, t, 17);  // blocks 1-5; the window left blocks 0-1 (ids 1, 2)
  EXPECT_EQ(m.block_table(1), (Ids{0, 0, 3, 4, 5}));
  m.free(1);
  EXPECT_EQ(m.pool().free_queue(), (Ids{6, 2, 1, 5, 4, 3}));
  ASSERT_TRUE(m.allocate_slots(2, 8));  // takes 6 and 2: block 1's page is evicted
  const std::vector<BlockHash> h = hashes_of(seq(17));
  EXPECT_EQ(m.find_cached_prefix(h, 17).blocks[0], (Ids{0, 0, 3, 4}));
  auto only = [&](std::vector<int32_t> ends) {
    return m.find_cached_prefix(
        h, 17, [&](int32_t k) { return std::find(ends.begin(), ends.end(), k) != ends.end(); });
  };
  EXPECT_EQ(only({3, 1}).blocks[0], (Ids{1}));
  EXPECT_TRUE(only({3, 2}).empty());
  EXPECT_EQ(only({4, 1}).blocks[0], (Ids{0, 0, 3, 4}));
}

TEST(SlidingWindow, MostBlocksARequestHolds) {
  const KvCacheManager m = manager();
  EXPECT_EQ(m.max_blocks_held(100, 1), 25 + 3);   // a decode reads 8 positions: 3 blocks at most
  EXPECT_EQ(m.max_blocks_held(100, 20), 25 + 8);  // 27 positions: 8 blocks at most
  EXPECT_EQ(m.max_blocks_held(6, 20), 2 + 2);     // never more than the whole sequence
  EXPECT_EQ(KvCacheManager(21, kBs, true).max_blocks_held(100, 20), 25);
}

}  // namespace
}  // namespace sluice::kv
