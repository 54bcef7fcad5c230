// Scheduler with a StatePool (recurrent layers) and no model, blocks of 4, exact slot ids: chunks
// cut at snapshot boundaries with save_to, prefix hits only where a snapshot ends (restore_from),
// live slots gating admission and freed by preemption and remove, interval snapshots, forks.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <numeric>
#include <vector>

#include "engine/scheduler.h"
#include "scheduler_test_support.h"

namespace sluice {
namespace {

using kv::BlockId;
using kv::StateSlot;

using testing::finish_step;
using testing::make_seq;

// (num_new_tokens, restore_from, save_to) per scheduled sequence.
using Plan = std::vector<std::array<int32_t, 3>>;
Plan plan(const SchedulerOutput& out) {
  Plan p;
  for (const auto& s : out.scheduled) p.push_back({s.num_new_tokens, s.restore_from, s.save_to});
  return p;
}

TEST(SchedulerState, PromptChunkStopsAtItsLastFullBlockAndSaves) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 4);  // live 0-1, snapshots 2-5
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 10);  // prompt end snapshot at token 8 (block 1's end)
  sched.add(a.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{8, -1, 2}}));
  EXPECT_EQ(a->state_slot, 0);
  EXPECT_EQ(states.slot(1), 0);
  EXPECT_FALSE(states.has_snapshot(a->block_hashes[1]));  // filled by the step in flight
  finish_step(sched, out);
  EXPECT_EQ(a->num_tokens(), 10);  // no token sampled at the boundary
  EXPECT_TRUE(states.has_snapshot(a->block_hashes[1]));
  out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{2, -1, -1}}));
  finish_step(sched, out);
  EXPECT_EQ(plan(sched.schedule()), (Plan{{1, -1, -1}}));  // decodes: no boundary past the prompt
  EXPECT_EQ(states.num_snapshots_held(), 1);
}

TEST(SchedulerState, SamePromptRestoresFromTheSnapshot) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 4);
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 10);
  sched.add(a.get());
  finish_step(sched, sched.schedule());
  finish_step(sched, sched.schedule());
  const std::vector<BlockId> a_blocks = kv.block_table(1);
  sched.remove(a.get());
  auto b = make_seq(2, 10);
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{2, 2, -1}}));  // 8 tokens restored from snapshot slot 2
  EXPECT_EQ(b->num_computed, 8);
  EXPECT_EQ(b->num_cached_tokens, 8);
  EXPECT_EQ(b->state_slot, 0);  // a's live slot, released and reused
  EXPECT_EQ(std::vector<BlockId>(kv.block_table(2).begin(), kv.block_table(2).begin() + 2),
            std::vector<BlockId>(a_blocks.begin(), a_blocks.begin() + 2));
  EXPECT_EQ(sched.prefix_stats().queries, 10 + 10);
  EXPECT_EQ(sched.prefix_stats().hits, 8);
}

// A's 21-token prompt snapshots at 8, 16 (every 2 blocks) and 20 (its end). B shares 14 tokens:
// the KV cache holds 3 of its blocks, but the state exists only at 2, so B hits 8 tokens.
TEST(SchedulerState, KvHitIsCutToTheLastSnapshottedBlock) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 4);
  Scheduler sched({100, 8, 2}, kv, &states);
  auto a = make_seq(1, 21);
  sched.add(a.get());
  std::vector<Plan> plans;
  for (int i = 0; i < 4; ++i) {
    const SchedulerOutput out = sched.schedule();
    plans.push_back(plan(out));
    finish_step(sched, out);
  }
  EXPECT_EQ(plans, (std::vector<Plan>{{{8, -1, 2}}, {{8, -1, 3}}, {{4, -1, 4}}, {{1, -1, -1}}}));
  const std::vector<BlockId> a_blocks = kv.block_table(1);
  sched.remove(a.get());

  auto b = make_seq(2, 22);
  std::fill(b->tokens.begin() + 14, b->tokens.end(), 500);
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{8, 2, 5}}));  // 8..16, then B's own interval snapshot
  EXPECT_EQ(b->num_cached_tokens, 8);
  EXPECT_EQ(kv.block_table(2)[1], a_blocks[1]);
  EXPECT_NE(kv.block_table(2)[2], a_blocks[2]);  // cached, but recomputed for the state
  EXPECT_EQ(sched.prefix_stats().hits, 8);
  finish_step(sched, out);
  out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{4, -1, 3}}));  // at 20: evicts a's 16-token snapshot (LRU)
  EXPECT_FALSE(states.has_snapshot(a->block_hashes[3]));
  EXPECT_TRUE(states.has_snapshot(a->block_hashes[1]));
  EXPECT_TRUE(states.has_snapshot(a->block_hashes[4]));
}

TEST(SchedulerState, IntervalSnapshotsOfALongPrefillUnderASmallBudget) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(1, 8);
  Scheduler sched({3, 8, 2}, kv, &states);
  auto a = make_seq(1, 19);  // boundaries: 8 (every 2 blocks) and 16 (the prompt's full blocks)
  sched.add(a.get());
  std::vector<int32_t> ends, saves;
  while (a->num_output_tokens() == 0) {
    const SchedulerOutput out = sched.schedule();
    ASSERT_EQ(out.scheduled.size(), 1u);
    ends.push_back(a->num_computed + out.scheduled[0].num_new_tokens);
    saves.push_back(out.scheduled[0].save_to);
    finish_step(sched, out);
  }
  EXPECT_EQ(ends, (std::vector<int32_t>{3, 6, 8, 11, 14, 16, 19}));
  EXPECT_EQ(saves, (std::vector<int32_t>{-1, -1, 1, -1, -1, 2, -1}));
  EXPECT_EQ(states.num_snapshots_held(), 2);
}

TEST(SchedulerState, NoLiveSlotNoAdmission) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(1, 2);
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 5), b = make_seq(2, 5, 100);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].seq, a.get());
  EXPECT_EQ(sched.num_waiting(), 1u);
  EXPECT_FALSE(kv.has(2));  // nothing allocated for the one left waiting
  EXPECT_EQ(b->state_slot, -1);
  finish_step(sched, out);
  EXPECT_EQ(plan(sched.schedule()), (Plan{{1, -1, -1}}));
  sched.remove(a.get());
  out = sched.schedule();
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].seq, b.get());
  EXPECT_EQ(b->state_slot, 0);
}

// Blocks run out as in Scheduler.PreemptsNewestAndResumesFromPrefixCache: B is preempted and
// gives its live slot back. It resumes from token 0 (its one cached KV block has no snapshot) and
// does not save its prompt-end snapshot again.
TEST(SchedulerState, PreemptionReleasesTheLiveSlot) {
  kv::KvCacheManager kv(5, 4, true);
  kv::StatePool states(2, 2);
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 8), b = make_seq(2, 8, 100);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{8, -1, 2}, {8, -1, 3}}));
  EXPECT_EQ(b->state_slot, 1);
  finish_step(sched, out);
  out = sched.schedule();
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], b.get());
  EXPECT_FALSE(states.has(2));
  EXPECT_EQ(b->state_slot, -1);
  EXPECT_EQ(states.num_free_live(), 1);
  finish_step(sched, out);
  sched.remove(a.get());
  EXPECT_EQ(states.num_free_live(), 2);
  out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{8, -1, -1}}));  // to its prompt end; the snapshot is already held
  EXPECT_EQ(b->num_computed, 0);
  EXPECT_EQ(b->state_slot, 0);
  finish_step(sched, out);
  EXPECT_EQ(plan(sched.schedule()), (Plan{{1, -1, -1}}));
}

TEST(SchedulerState, RemoveReleasesTheLiveSlot) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 2);
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 6), b = make_seq(2, 6, 100), c = make_seq(3, 6, 200);
  sched.add(a.get());
  sched.add(b.get());
  sched.add(c.get());
  finish_step(sched, sched.schedule());
  EXPECT_EQ(states.num_free_live(), 0);
  sched.remove(c.get());  // waiting: holds no slot
  EXPECT_EQ(states.num_free_live(), 0);
  sched.remove(a.get());
  EXPECT_EQ(a->state_slot, -1);
  EXPECT_FALSE(states.has(1));
  EXPECT_EQ(states.num_free_live(), 1);
  sched.remove(b.get());
  EXPECT_EQ(states.num_free_live(), 2);
  EXPECT_EQ(kv.num_free_blocks(), 32);
}

// n > 1: the engine forks the KV blocks and acquires the child's slot before add_running.
TEST(SchedulerState, ForkedChildBringsItsOwnSlot) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 2);
  Scheduler sched({100, 8}, kv, &states);
  auto a = make_seq(1, 6);
  sched.add(a.get());
  finish_step(sched, sched.schedule());  // to the prompt end snapshot at 4
  finish_step(sched, sched.schedule());  // samples
  Sequence child = *a;                   // a copy holds the parent's slot: the engine must reset it
  child.id = 2;
  child.state_slot = -1;
  ASSERT_TRUE(kv.fork(1, 2, a->num_computed).has_value());
  EXPECT_DEATH(sched.add_running(&child), "state slot");
  child.state_slot = *states.acquire(2);
  sched.add_running(&child);
  EXPECT_EQ(child.state_slot, 1);
  EXPECT_EQ(plan(sched.schedule()), (Plan{{1, -1, -1}, {1, -1, -1}}));
}

// Without a pool nothing changes: no cut at block ends, no slots, hits as long as the KV cache's.
TEST(SchedulerState, WithoutAPoolChunksAndHitsAreAsBefore) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({100, 8, 2}, kv);
  auto a = make_seq(1, 21);
  sched.add(a.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{21, -1, -1}}));
  EXPECT_EQ(a->state_slot, -1);
  finish_step(sched, out);
  auto b = make_seq(2, 22);
  std::fill(b->tokens.begin() + 14, b->tokens.end(), 500);
  sched.add(b.get());
  out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{1, -1, -1}, {10, -1, -1}}));
  EXPECT_EQ(b->num_cached_tokens, 12);
}

// A pool with no snapshot slots: live slots only, chunks uncut, no hits.
TEST(SchedulerState, ZeroSnapshotsMeansNoCutsAndNoHits) {
  kv::KvCacheManager kv(33, 4, true);
  kv::StatePool states(2, 0);
  Scheduler sched({100, 8, 2}, kv, &states);
  auto a = make_seq(1, 21);
  sched.add(a.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{21, -1, -1}}));
  finish_step(sched, out);
  auto b = make_seq(2, 21);
  sched.add(b.get());
  out = sched.schedule();
  EXPECT_EQ(plan(out), (Plan{{1, -1, -1}, {21, -1, -1}}));
  EXPECT_EQ(b->num_cached_tokens, 0);
  EXPECT_EQ(b->state_slot, 1);
}

}  // namespace
}  // namespace sluice
