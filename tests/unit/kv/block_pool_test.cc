// BlockPool with exact block ids: free-queue order, ref counts, lazy eviction, first writer wins.
#include "kv/block_pool.h"

#include <gtest/gtest.h>

namespace sluice::kv {
namespace {

using Ids = std::vector<BlockId>;

TEST(BlockPool, StartsWithAllButNullBlockFreeInOrder) {
  BlockPool pool(6, true);
  EXPECT_EQ(pool.num_blocks(), 6);
  EXPECT_EQ(pool.num_free_blocks(), 5);
  EXPECT_EQ(pool.free_queue(), (Ids{1, 2, 3, 4, 5}));
  EXPECT_DOUBLE_EQ(pool.usage(), 0.0);
  EXPECT_EQ(pool.ref_count(0), 0);
}

TEST(BlockPool, AllocatePopsHeadAndReleaseAppendsInOrder) {
  BlockPool pool(8, true);
  EXPECT_EQ(pool.allocate(3), (Ids{1, 2, 3}));
  EXPECT_EQ(pool.free_queue(), (Ids{4, 5, 6, 7}));
  EXPECT_EQ(pool.ref_count(2), 1);
  EXPECT_DOUBLE_EQ(pool.usage(), 3.0 / 7.0);

  pool.release(Ids{3, 1});
  EXPECT_EQ(pool.free_queue(), (Ids{4, 5, 6, 7, 3, 1}));
  EXPECT_EQ(pool.allocate(5), (Ids{4, 5, 6, 7, 3}));
  EXPECT_EQ(pool.free_queue(), (Ids{1}));
  EXPECT_EQ(pool.allocate(0), Ids{});
}

TEST(BlockPool, NeverHandsOutNullBlock) {
  BlockPool pool(4, true);
  EXPECT_EQ(pool.allocate(3), (Ids{1, 2, 3}));
  EXPECT_EQ(pool.num_free_blocks(), 0);
  EXPECT_DOUBLE_EQ(pool.usage(), 1.0);
  EXPECT_EQ(pool.free_queue(), Ids{});
}

TEST(BlockPool, TouchAndReleaseCountReferences) {
  BlockPool pool(6, true);
  pool.allocate(2);  // 1, 2
  pool.touch(Ids{1, 1, 2});
  EXPECT_EQ(pool.ref_count(1), 3);
  EXPECT_EQ(pool.ref_count(2), 2);
  pool.release(Ids{2, 1, 1});
  EXPECT_EQ(pool.ref_count(1), 1);
  EXPECT_EQ(pool.ref_count(2), 1);
  EXPECT_EQ(pool.free_queue(), (Ids{3, 4, 5}));
  pool.release(Ids{1, 2});
  EXPECT_EQ(pool.free_queue(), (Ids{3, 4, 5, 1, 2}));
}

TEST(BlockPool, TouchOnFreeBlockRemovesItFromAnywhereInQueue) {
  BlockPool pool(7, true);
  pool.touch(Ids{3});  // middle
  EXPECT_EQ(pool.free_queue(), (Ids{1, 2, 4, 5, 6}));
  pool.touch(Ids{1});  // head
  pool.touch(Ids{6});  // tail
  EXPECT_EQ(pool.free_queue(), (Ids{2, 4, 5}));
  EXPECT_EQ(pool.num_free_blocks(), 3);
  EXPECT_EQ(pool.ref_count(3), 1);
  pool.release(Ids{6, 3, 1});
  EXPECT_EQ(pool.free_queue(), (Ids{2, 4, 5, 6, 3, 1}));
  EXPECT_EQ(pool.allocate(2), (Ids{2, 4}));
}

TEST(BlockPool, FreedBlocksKeepHashUntilEvictedFromHead) {
  BlockPool pool(6, true);
  EXPECT_EQ(pool.allocate(3), (Ids{1, 2, 3}));
  pool.set_hash(1, 111);
  pool.set_hash(2, 222);
  pool.release(Ids{2, 1});
  pool.release(Ids{3});
  EXPECT_EQ(pool.free_queue(), (Ids{4, 5, 2, 1, 3}));
  EXPECT_EQ(pool.lookup(111), 1);
  EXPECT_EQ(pool.lookup(222), 2);
  EXPECT_EQ(pool.hash_of(1), 111u);

  EXPECT_EQ(pool.allocate(3), (Ids{4, 5, 2}));  // 2 evicted, 1 survives
  EXPECT_EQ(pool.lookup(222), std::nullopt);
  EXPECT_EQ(pool.hash_of(2), std::nullopt);
  EXPECT_EQ(pool.lookup(111), 1);

  // A hit on the free block 1 revives it without losing its hash.
  pool.touch(Ids{1});
  EXPECT_EQ(pool.free_queue(), (Ids{3}));
  EXPECT_EQ(pool.lookup(111), 1);
}

TEST(BlockPool, FirstWriterWins) {
  BlockPool pool(6, true);
  pool.allocate(2);
  pool.set_hash(1, 42);
  pool.set_hash(2, 42);
  EXPECT_EQ(pool.lookup(42), 1);
  EXPECT_EQ(pool.hash_of(2), std::nullopt);
  pool.set_hash(1, 42);  // same block, same hash: no-op
  EXPECT_EQ(pool.hash_of(1), 42u);
  // Once 1 is evicted the hash is free again.
  pool.release(Ids{1, 2});
  EXPECT_EQ(pool.allocate(4), (Ids{3, 4, 5, 1}));
  EXPECT_EQ(pool.lookup(42), std::nullopt);
  EXPECT_EQ(pool.allocate(1), (Ids{2}));
  pool.set_hash(2, 42);  // reallocated block 2 may now take the hash
  EXPECT_EQ(pool.lookup(42), 2);
}

TEST(BlockPool, CachingDisabled) {
  BlockPool pool(4, false);
  pool.allocate(1);
  pool.set_hash(1, 9);
  EXPECT_EQ(pool.hash_of(1), std::nullopt);
  EXPECT_EQ(pool.lookup(9), std::nullopt);
  EXPECT_FALSE(pool.caching_enabled());
}

TEST(BlockPool, ResetPrefixCacheOnlyWhenIdle) {
  BlockPool pool(5, true);
  pool.allocate(2);
  pool.set_hash(1, 10);
  pool.set_hash(2, 20);
  EXPECT_FALSE(pool.reset_prefix_cache());
  EXPECT_EQ(pool.lookup(10), 1);
  pool.release(Ids{2, 1});
  const Ids order = pool.free_queue();
  EXPECT_TRUE(pool.reset_prefix_cache());
  EXPECT_EQ(pool.lookup(10), std::nullopt);
  EXPECT_EQ(pool.lookup(20), std::nullopt);
  EXPECT_EQ(pool.hash_of(1), std::nullopt);
  EXPECT_EQ(pool.free_queue(), order);
}

TEST(BlockPoolDeathTest, MisuseAborts) {
  EXPECT_DEATH(
      {
        BlockPool pool(3, true);
        pool.allocate(3);
      },
      "not enough free blocks");
  EXPECT_DEATH(
      {
        BlockPool pool(3, true);
        pool.release(Ids{1});
      },
      "release of a free block");
  EXPECT_DEATH(
      {
        BlockPool pool(3, true);
        pool.touch(Ids{0});
      },
      "null block");
}

}  // namespace
}  // namespace sluice::kv
