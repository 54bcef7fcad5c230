// StatePool with exact slot ids: live slots (lowest free first, release and reuse) and snapshot
// slots (LRU eviction on reserve, touch by find, pending until committed, zero snapshots).
#include "kv/state_pool.h"

#include <gtest/gtest.h>

namespace sluice::kv {
namespace {

// Reserves and commits a snapshot of `hash`, as a step that saves the state there does.
StateSlot save(StatePool& p, BlockHash hash) {
  const std::optional<StateSlot> s = p.reserve_snapshot(hash);
  EXPECT_TRUE(s.has_value()) << hash;
  if (!s) return -1;
  p.commit_snapshot(*s);
  return *s;
}

TEST(StatePool, AcquiresLowestFreeLiveSlotAndReusesReleased) {
  StatePool p(3, 2);
  EXPECT_EQ(p.acquire(10), 0);
  EXPECT_EQ(p.acquire(11), 1);
  EXPECT_EQ(p.acquire(12), 2);
  EXPECT_EQ(p.acquire(13), std::nullopt);
  EXPECT_EQ(p.num_free_live(), 0);
  p.release(11);
  EXPECT_FALSE(p.has(11));
  EXPECT_EQ(p.num_free_live(), 1);
  p.release(10);
  EXPECT_EQ(p.acquire(13), 0);  // lowest of {0, 1}
  EXPECT_EQ(p.acquire(14), 1);
  EXPECT_TRUE(p.has(13));
  EXPECT_EQ(p.slot(13), 0);
  EXPECT_EQ(p.slot(12), 2);
  p.release(99);  // never held one: no-op
  EXPECT_EQ(p.num_free_live(), 0);
}

TEST(StatePool, SnapshotSlotsFollowTheLiveOnes) {
  StatePool p(2, 3);
  EXPECT_EQ(save(p, 100), 2);
  EXPECT_EQ(save(p, 101), 3);
  EXPECT_EQ(save(p, 102), 4);
  EXPECT_EQ(p.num_snapshots_held(), 3);
  EXPECT_EQ(p.find_snapshot(101), 3);
  EXPECT_EQ(p.find_snapshot(555), std::nullopt);
  EXPECT_EQ(p.num_free_live(), 2);  // snapshots never take live slots
}

TEST(StatePool, ReserveEvictsLeastRecentlyUsed) {
  StatePool p(1, 3);
  save(p, 100);                           // slot 1
  save(p, 101);                           // slot 2
  save(p, 102);                           // slot 3
  EXPECT_EQ(p.reserve_snapshot(103), 1);  // evicts 100, the oldest
  EXPECT_FALSE(p.has_snapshot(100));
  p.commit_snapshot(1);
  EXPECT_EQ(save(p, 104), 2);  // then 101
  EXPECT_EQ(save(p, 105), 3);  // then 102
  EXPECT_FALSE(p.has_snapshot(101));
  EXPECT_FALSE(p.has_snapshot(102));
  EXPECT_EQ(p.find_snapshot(103), 1);
  EXPECT_EQ(p.num_snapshots_held(), 3);
}

TEST(StatePool, FindTouchesHasDoesNot) {
  StatePool p(0, 3);
  save(p, 100);                           // slot 0
  save(p, 101);                           // slot 1
  save(p, 102);                           // slot 2
  EXPECT_TRUE(p.has_snapshot(100));       // no touch: 100 stays the oldest
  EXPECT_EQ(p.find_snapshot(101), 1);     // order now 100, 102, 101
  EXPECT_EQ(p.reserve_snapshot(200), 0);  // evicts 100
  p.commit_snapshot(0);
  EXPECT_EQ(p.find_snapshot(102), 2);     // order now 101, 200, 102
  EXPECT_EQ(p.reserve_snapshot(201), 1);  // evicts 101
  p.commit_snapshot(1);
  EXPECT_TRUE(p.has_snapshot(200));
  EXPECT_TRUE(p.has_snapshot(102));
  EXPECT_FALSE(p.has_snapshot(101));
}

TEST(StatePool, ReserveOfAHeldHashGivesNothing) {
  StatePool p(1, 2);
  save(p, 100);
  EXPECT_EQ(p.reserve_snapshot(100), std::nullopt);  // filled
  EXPECT_EQ(p.reserve_snapshot(101), 2);
  EXPECT_EQ(p.reserve_snapshot(101), std::nullopt);  // pending
  EXPECT_EQ(p.num_snapshots_held(), 2);
}

TEST(StatePool, PendingSnapshotIsNeitherFoundNorEvicted) {
  StatePool p(0, 2);
  EXPECT_EQ(p.reserve_snapshot(100), 0);
  EXPECT_FALSE(p.has_snapshot(100));  // its state is written after the step
  EXPECT_EQ(p.find_snapshot(100), std::nullopt);
  EXPECT_EQ(p.num_snapshots_pending(), 1);
  EXPECT_EQ(p.reserve_snapshot(101), 1);
  EXPECT_EQ(p.reserve_snapshot(102), std::nullopt);  // both pending: none to evict
  p.commit_snapshot(1);
  EXPECT_EQ(p.find_snapshot(101), 1);
  EXPECT_EQ(p.reserve_snapshot(102), 1);  // evicts the filled 101, never the pending 100
  EXPECT_FALSE(p.has_snapshot(101));
  p.commit_snapshot(0);
  p.commit_snapshot(1);
  EXPECT_EQ(p.num_snapshots_pending(), 0);
  EXPECT_EQ(p.find_snapshot(100), 0);
  EXPECT_EQ(p.find_snapshot(102), 1);
}

TEST(StatePool, ResetDropsFilledSnapshotsOnly) {
  StatePool p(1, 3);
  save(p, 100);  // slot 1
  save(p, 101);  // slot 2
  EXPECT_EQ(p.reserve_snapshot(102), 3);
  p.reset_snapshots();
  EXPECT_FALSE(p.has_snapshot(100));
  EXPECT_FALSE(p.has_snapshot(101));
  EXPECT_EQ(p.num_snapshots_held(), 1);
  p.commit_snapshot(3);
  EXPECT_EQ(p.find_snapshot(102), 3);
  EXPECT_EQ(save(p, 100), 1);  // freed slots are reused, lowest first
}

TEST(StatePool, ZeroSnapshotsNeverReserves) {
  StatePool p(2, 0);
  EXPECT_EQ(p.reserve_snapshot(100), std::nullopt);
  EXPECT_FALSE(p.has_snapshot(100));
  EXPECT_EQ(p.num_snapshots_held(), 0);
  EXPECT_EQ(p.acquire(1), 0);
}

TEST(StatePoolDeathTest, AcquireTwiceAndBadCommitAssert) {
  StatePool p(2, 1);
  p.acquire(1);
  EXPECT_DEATH(p.acquire(1), "already holds");
  EXPECT_DEATH(p.commit_snapshot(2), "free snapshot slot");
  EXPECT_DEATH(p.commit_snapshot(0), "not a snapshot slot");
  save(p, 100);
  EXPECT_DEATH(p.commit_snapshot(2), "not pending");
}

}  // namespace
}  // namespace sluice::kv
