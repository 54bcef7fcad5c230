// Scheduler + KV manager with no model: exact block ids, chunked prefill, preemption and
// resumption, prefix hits across requests, max_num_seqs.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <vector>

#include "scheduler_test_support.h"

namespace sluice {
namespace {

using kv::BlockId;

using testing::counts;
using testing::finish_step;
using testing::make_seq;

TEST(Scheduler, PrefillThenDecodeWithExactBlocks) {
  kv::KvCacheManager kv(9, 4, true);  // blocks 1..8
  Scheduler sched({100, 8}, kv);
  auto a = make_seq(1, 10), b = make_seq(2, 6, 100);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{10, 6}));
  EXPECT_EQ(kv.block_table(1), (std::vector<BlockId>{1, 2, 3}));
  EXPECT_EQ(kv.block_table(2), (std::vector<BlockId>{4, 5}));
  finish_step(sched, out);
  out = sched.schedule();  // decodes: one token each; A's 11th token fits block 3, B's 7th block 5
  EXPECT_EQ(counts(out), (std::vector<int32_t>{1, 1}));
  EXPECT_EQ(kv.block_table(1).size(), 3u);
  finish_step(sched, out);
  finish_step(sched, sched.schedule());  // A at 13 tokens -> needs a 4th block
  out = sched.schedule();
  EXPECT_EQ(kv.block_table(1), (std::vector<BlockId>{1, 2, 3, 6}));
  EXPECT_EQ(kv.block_table(2), (std::vector<BlockId>{4, 5, 7}));
}

TEST(Scheduler, ChunkedPrefillUnderTokenBudget) {
  kv::KvCacheManager kv(17, 4, true);
  Scheduler sched({8, 8}, kv);
  auto a = make_seq(1, 10), b = make_seq(2, 6, 100);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{8}));  // A's first chunk uses the whole budget
  EXPECT_EQ(sched.num_waiting(), 1u);
  finish_step(sched, out);
  EXPECT_EQ(a->num_tokens(), 10);  // no token sampled mid-prefill
  out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{2, 6}));  // A finishes its prefill, B starts
  finish_step(sched, out);
  EXPECT_EQ(a->num_tokens(), 11);
  EXPECT_EQ(b->num_tokens(), 7);
}

TEST(Scheduler, PreemptsNewestAndResumesFromPrefixCache) {
  kv::KvCacheManager kv(5, 4, true);  // 4 usable blocks
  Scheduler sched({100, 8}, kv);
  auto a = make_seq(1, 8), b = make_seq(2, 8, 100);
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(kv.block_table(1), (std::vector<BlockId>{1, 2}));
  EXPECT_EQ(kv.block_table(2), (std::vector<BlockId>{3, 4}));
  finish_step(sched, out);  // both now hold 9 tokens: each needs a third block, none is free
  out = sched.schedule();
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], b.get());
  EXPECT_EQ(counts(out), (std::vector<int32_t>{1}));
  EXPECT_EQ(kv.block_table(1), (std::vector<BlockId>{1, 2, 4}));  // B's tail block evicted first
  EXPECT_FALSE(kv.has(2));
  EXPECT_EQ(b->num_computed, 0);
  EXPECT_EQ(b->num_preemptions, 1);
  finish_step(sched, out);
  sched.remove(a.get());  // A finishes: its blocks return to the pool
  out = sched.schedule();
  // B resumes: its first full block (block 3) is still cached; it recomputes the rest.
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].seq, b.get());
  EXPECT_EQ(b->num_computed, 4);
  EXPECT_EQ(counts(out), (std::vector<int32_t>{5}));
  EXPECT_EQ(kv.block_table(2)[0], 3);
}

TEST(Scheduler, PrefixHitAcrossRequestsComputesOnlyTheSuffix) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({100, 8}, kv);
  auto a = make_seq(1, 13);
  sched.add(a.get());
  SchedulerOutput out = sched.schedule();
  const std::vector<BlockId> a_blocks = kv.block_table(1);
  finish_step(sched, out);
  sched.remove(a.get());
  auto b = make_seq(2, 13);  // same first 12 tokens (3 full blocks), different last token
  b->tokens[12] = 500;
  sched.add(b.get());
  out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{1}));
  EXPECT_EQ(b->num_cached_tokens, 12);
  EXPECT_EQ(std::vector<BlockId>(kv.block_table(2).begin(), kv.block_table(2).begin() + 3),
            std::vector<BlockId>(a_blocks.begin(), a_blocks.begin() + 3));

  auto c = make_seq(3, 13);  // a different salt: no hit
  c->root_hash = kv::root_hash("tenant-2");
  sched.add(c.get());
  out = sched.schedule();
  EXPECT_EQ(c->num_cached_tokens, 0);
}

TEST(Scheduler, RespectsMaxNumSeqs) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({100, 2}, kv);
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(make_seq(i + 1, 3, 10 * i));
    sched.add(seqs.back().get());
  }
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(sched.num_waiting(), 1u);
  finish_step(sched, out);
  sched.remove(seqs[0].get());
  out = sched.schedule();
  EXPECT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[1].seq, seqs[2].get());
}

TEST(Scheduler, RemoveFreesEverythingAfterManySteps) {
  kv::KvCacheManager kv(7, 4, false);
  Scheduler sched({6, 4}, kv);
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < 4; ++i) {
    seqs.push_back(make_seq(i + 1, 5 + i, 7 * i));
    sched.add(seqs.back().get());
  }
  for (int step = 0; step < 200; ++step) {
    SchedulerOutput out = sched.schedule();
    if (out.empty()) break;
    finish_step(sched, out);
    for (auto& s : seqs)
      if (s->status != SequenceStatus::kFinished && s->num_output_tokens() >= 3)
        sched.remove(s.get());
  }
  for (auto& s : seqs) EXPECT_EQ(s->status, SequenceStatus::kFinished) << s->id;
  EXPECT_EQ(kv.num_free_blocks(), 6);
}

// Gemma 3's tiny layout (one global layer, five local ones with a window of 32; blocks of 16):
// after each step a 2,000-token sequence holds every global block and, per local layer, the
// blocks from the first one its next token reads; a prompt sharing its first 1,000 tokens hits
// them all (the local layers' last two blocks before the hit are still cached).
TEST(Scheduler, SlidingWindowSequenceHoldsItsWindowAfterEveryStep) {
  kv::KvCacheManager kv(1001, 16, true, {0, 32, 32, 32, 32, 32});
  Scheduler sched({512, 4}, kv);
  auto held = [](int64_t n) {
    const int64_t all = (n + 15) / 16, first = std::max<int64_t>(0, n - 31) / 16;
    return all + 5 * (all - first);
  };
  auto a = make_seq(1, 2000);
  sched.add(a.get());
  for (int step = 0; step < 60; ++step) {  // 4 prefill chunks, then decodes
    finish_step(sched, sched.schedule());
    ASSERT_EQ(1000 - kv.num_free_blocks(), held(a->num_computed)) << a->num_computed;
  }
  EXPECT_EQ(a->num_computed, 2056);
  EXPECT_EQ(kv.block_table(1, 1)[125], kv::kNullBlock);  // token 2056 reads from 2025 on
  EXPECT_NE(kv.block_table(1, 1)[126], kv::kNullBlock);
  auto b = make_seq(2, 1005, 5000);
  std::copy_n(a->tokens.begin(), 1000, b->tokens.begin());
  sched.add(b.get());
  const SchedulerOutput out = sched.schedule();
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(b->num_cached_tokens, 992);
  EXPECT_EQ(out.scheduled[1].num_new_tokens, 1005 - 992);
  sched.remove(a.get());
  sched.remove(b.get());
  EXPECT_EQ(kv.num_free_blocks(), 1000);
}

}  // namespace
}  // namespace sluice
