// EmbeddingScheduler with no model: whole sequences in arrival order under the token budget and
// max_num_seqs; an over-budget sequence runs alone; nothing is ever split.
#include "engine/embedding_scheduler.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice {
namespace {

EmbeddingSequence seq(uint64_t request, size_t index, int32_t num_tokens) {
  return EmbeddingSequence{EncoderSequence{std::vector<int32_t>(num_tokens, 1), {}}, request,
                           index};
}

std::vector<int32_t> lengths(const std::vector<EmbeddingSequence*>& step) {
  std::vector<int32_t> out;
  for (const EmbeddingSequence* s : step) out.push_back(s->num_tokens());
  return out;
}

TEST(EmbeddingScheduler, WholeSequencesUnderTheTokenBudgetInArrivalOrder) {
  EmbeddingScheduler sched(100, 64);
  std::vector<EmbeddingSequence> seqs = {seq(1, 0, 40), seq(1, 1, 50), seq(2, 0, 20), seq(3, 0, 5)};
  for (auto& s : seqs) sched.add(&s);
  EXPECT_EQ(lengths(sched.schedule()), (std::vector<int32_t>{40, 50}));  // 20 more would be 110
  EXPECT_EQ(lengths(sched.schedule()), (std::vector<int32_t>{20, 5}));
  EXPECT_TRUE(sched.schedule().empty());
  EXPECT_EQ(sched.num_waiting(), 0u);
}

TEST(EmbeddingScheduler, AnOverBudgetSequenceRunsAlone) {
  EmbeddingScheduler sched(100, 64);
  std::vector<EmbeddingSequence> seqs = {seq(1, 0, 10), seq(2, 0, 300), seq(3, 0, 10)};
  for (auto& s : seqs) sched.add(&s);
  EXPECT_EQ(lengths(sched.schedule()), (std::vector<int32_t>{10}));
  EXPECT_EQ(lengths(sched.schedule()), (std::vector<int32_t>{300}));
  EXPECT_EQ(lengths(sched.schedule()), (std::vector<int32_t>{10}));
}

TEST(EmbeddingScheduler, AtMostMaxNumSeqs) {
  EmbeddingScheduler sched(1000, 2);
  std::vector<EmbeddingSequence> seqs = {seq(1, 0, 1), seq(1, 1, 1), seq(1, 2, 1)};
  for (auto& s : seqs) sched.add(&s);
  const auto step = sched.schedule();
  ASSERT_EQ(step.size(), 2u);
  EXPECT_EQ(step[0]->index, 0u);
  EXPECT_EQ(step[1]->index, 1u);
  EXPECT_EQ(sched.schedule()[0]->index, 2u);
}

}  // namespace
}  // namespace sluice
