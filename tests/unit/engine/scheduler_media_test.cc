// Prefill chunks around images: a chunk never ends inside an image (its tokens attend to each
// other), and two pictures behind the same placeholder tokens never share cached blocks.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/scheduler.h"
#include "scheduler_test_support.h"

namespace sluice {
namespace {

using testing::counts;
using testing::finish_step;
using testing::make_seq;

kv::MediaKey image(int32_t start, int32_t length, uint64_t hash) {
  return {.start = start, .length = length, .hash_lo = hash, .hash_hi = ~hash};
}

TEST(SchedulerMedia, ChunksStopBeforeAnImageAndTakeItWhole) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({8, 8}, kv);  // 8 tokens per step
  auto a = make_seq(1, 24);
  a->media = {image(5, 6, 1)};  // tokens [5, 11)
  sched.add(a.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{5}));  // 8 would end inside the image
  finish_step(sched, out);
  out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{8}));  // [5, 13): the image and 2 more
  finish_step(sched, out);
  out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{8}));
}

// Qwen2-VL (whole_images false): causal image tokens, so chunks end inside an image, and an
// image longer than the step budget still runs.
TEST(SchedulerMedia, CausalImagesAreChunkedLikeText) {
  kv::KvCacheManager kv(33, 4, true);
  SchedulerConfig config{8, 8};
  config.whole_images = false;
  Scheduler sched(config, kv);
  auto a = make_seq(1, 24);
  a->media = {image(5, 12, 1)};  // tokens [5, 17): more than a step
  sched.add(a.get());
  for (int32_t want : {8, 8, 8}) {
    SchedulerOutput out = sched.schedule();
    EXPECT_EQ(counts(out), (std::vector<int32_t>{want}));
    finish_step(sched, out);
  }
}

TEST(SchedulerMedia, AnImageThatDoesNotFitWhatIsLeftWaitsForTheNextStep) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({8, 8}, kv);
  auto a = make_seq(1, 3), b = make_seq(2, 12, 100);
  b->media = {image(0, 7, 2)};  // B opens with a 7-token image
  sched.add(a.get());
  sched.add(b.get());
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{3}));  // 5 left: B's image does not fit
  EXPECT_EQ(sched.num_waiting(), 1u);
  EXPECT_EQ(b->num_computed, 0);
  finish_step(sched, out);
  out = sched.schedule();
  EXPECT_EQ(counts(out), (std::vector<int32_t>{1, 7}));  // A decodes, B takes the image
}

TEST(SchedulerMedia, DifferentPicturesBehindTheSameTokensDoNotShareBlocks) {
  kv::KvCacheManager kv(33, 4, true);
  Scheduler sched({64, 8}, kv);
  auto a = make_seq(1, 16), b = make_seq(2, 16), c = make_seq(3, 16);
  a->media = {image(4, 8, 7)};
  b->media = {image(4, 8, 8)};  // same tokens, another picture
  c->media = {image(4, 8, 7)};  // the first picture again
  sched.add(a.get());
  finish_step(sched, sched.schedule());
  sched.add(b.get());
  finish_step(sched, sched.schedule());
  EXPECT_EQ(b->num_cached_tokens, 4);  // only the block before the image
  sched.add(c.get());
  finish_step(sched, sched.schedule());
  EXPECT_EQ(c->num_cached_tokens, 12);  // [0, 16) but the last full block is recomputed
}

}  // namespace
}  // namespace sluice
