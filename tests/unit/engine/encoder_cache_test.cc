#include "engine/encoder_cache.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

EncoderCache::Embeddings rows(size_t floats, float v) {
  return std::make_shared<const std::vector<float>>(floats, v);
}

TEST(EncoderCache, HitsByKeyAndEvictsTheLeastRecentlyUsed) {
  EncoderCache c(3 * 4 * 4);  // three 4-float entries
  c.insert({1, 0}, rows(4, 1));
  c.insert({2, 0}, rows(4, 2));
  c.insert({3, 0}, rows(4, 3));
  ASSERT_TRUE(c.find({1, 0}));  // 1 is now the most recent: 2 goes first
  c.insert({4, 0}, rows(4, 4));
  EXPECT_FALSE(c.find({2, 0}));
  EXPECT_EQ((*c.find({1, 0}))[0], 1.0f);
  EXPECT_TRUE(c.find({3, 0}));
  EXPECT_TRUE(c.find({4, 0}));
  EXPECT_EQ(c.bytes(), 48);
  EXPECT_EQ(c.size(), 3);
}

TEST(EncoderCache, KeysDifferInEitherHalf) {
  EncoderCache c(1 << 20);
  c.insert({1, 2}, rows(4, 1));
  EXPECT_FALSE(c.find({1, 3}));
  EXPECT_FALSE(c.find({2, 2}));
  EXPECT_TRUE(c.find({1, 2}));
  EXPECT_EQ(c.hits(), 1);
  EXPECT_EQ(c.misses(), 2);
}

TEST(EncoderCache, StaysWithinItsBudgetAndSkipsOversizedEntries) {
  EncoderCache c(100);
  c.insert({9, 9}, rows(40, 0));  // 160 bytes: not kept
  EXPECT_EQ(c.size(), 0);
  EXPECT_EQ(c.bytes(), 0);
  for (uint64_t k = 0; k < 50; ++k) {
    c.insert({k, 0}, rows(1 + k % 7, 0));
    EXPECT_LE(c.bytes(), c.budget());
  }
  auto held = c.find({49, 0});
  ASSERT_TRUE(held);
  for (uint64_t k = 100; k < 120; ++k) c.insert({k, 0}, rows(6, 0));
  EXPECT_FALSE(c.find({49, 0}));
  EXPECT_EQ(held->size(), 1u + 49 % 7);  // a holder keeps its copy after eviction
}

TEST(EncoderCache, ReinsertingAKeyReplacesItsBytes) {
  EncoderCache c(1000);
  c.insert({1, 1}, rows(10, 0));
  c.insert({1, 1}, rows(20, 0));
  EXPECT_EQ(c.bytes(), 80);
  EXPECT_EQ(c.size(), 1);
}

}  // namespace
}  // namespace sluice
