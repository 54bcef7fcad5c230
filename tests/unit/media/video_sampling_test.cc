// The frame sampler: moments every 1/fps from the first frame, spread evenly when the cap binds,
// and for each moment the frame on screen then.
#include "media/video_sampling.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::media {
namespace {

std::vector<size_t> indices(const std::vector<SampledFrame>& frames) {
  std::vector<size_t> out;
  for (const SampledFrame& f : frames) out.push_back(f.index);
  return out;
}

std::vector<double> times(const std::vector<SampledFrame>& frames) {
  std::vector<double> out;
  for (const SampledFrame& f : frames) out.push_back(f.time_s);
  return out;
}

// n frames at a constant rate, from `start` seconds.
std::vector<double> constant_rate(int n, double fps, double start = 0) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(start + i / fps);
  return t;
}

TEST(SampleTimes, OneMomentPerPeriodBeforeTheEnd) {
  EXPECT_EQ(sample_times(3.0, {.fps = 1, .max_frames = 16}), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(sample_times(2.5, {.fps = 1, .max_frames = 16}), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(sample_times(1.5, {.fps = 2, .max_frames = 16}), (std::vector<double>{0, 0.5, 1}));
}

TEST(SampleTimes, AnEndJustPastAWholeSecondFromRoundingAddsNoMoment) {
  EXPECT_EQ(sample_times(2.0000000000000004, {.fps = 1, .max_frames = 16}).size(), 2u);
}

TEST(SampleTimes, ShortAndStillVideosGetTheFirstMoment) {
  EXPECT_EQ(sample_times(0.2, {.fps = 1, .max_frames = 16}), (std::vector<double>{0}));
  EXPECT_EQ(sample_times(0, {.fps = 1, .max_frames = 16}), (std::vector<double>{0}));
}

TEST(SampleTimes, TheCapSpreadsMomentsEvenlyOverTheDuration) {
  // 100 s at 1 fps would be 100 moments; 4 of them cover it every 25 s.
  EXPECT_EQ(sample_times(100, {.fps = 1, .max_frames = 4}), (std::vector<double>{0, 25, 50, 75}));
  // Exactly at the cap: the fps spacing stays.
  EXPECT_EQ(sample_times(4, {.fps = 1, .max_frames = 4}), (std::vector<double>{0, 1, 2, 3}));
}

TEST(SampleFrames, ConstantRateTakesEveryTenthFrameAtTenFps) {
  const auto t = constant_rate(30, 10);  // 3 s
  const auto s = sample_frames(t, 3.0, {.fps = 1, .max_frames = 16});
  EXPECT_EQ(indices(s), (std::vector<size_t>{0, 10, 20}));
  EXPECT_EQ(times(s), (std::vector<double>{0, 1, 2}));
}

TEST(SampleFrames, TimesCountFromTheFirstFrameNotFromZero) {
  const auto t = constant_rate(30, 10, 5.25);
  EXPECT_EQ(indices(sample_frames(t, 8.25, {.fps = 1, .max_frames = 16})),
            (std::vector<size_t>{0, 10, 20}));
}

TEST(SampleFrames, VariableFrameRateIsSampledByTime) {
  // Frames at 0, 0.1, 0.2, then one still frame for 1.5 s, then 10 fps again.
  const std::vector<double> t = {0, 0.1, 0.2, 1.7, 1.8, 1.9, 2.0, 2.1};
  const auto s = sample_frames(t, 2.2, {.fps = 1, .max_frames = 16});
  // 1 s: the frame on screen is the one from 0.2 s; 2 s: the frame starting at 2.0.
  EXPECT_EQ(indices(s), (std::vector<size_t>{0, 2, 6}));
}

TEST(SampleFrames, AFrameStartingWithinAMicrosecondAfterAMomentCounts) {
  const std::vector<double> t = {0, 0.5, 1.0000000001, 1.5};
  EXPECT_EQ(indices(sample_frames(t, 2.0, {.fps = 1, .max_frames = 16})),
            (std::vector<size_t>{0, 2}));
}

TEST(SampleFrames, AFrameOnScreenAtSeveralMomentsIsTakenOnce) {
  // A 1 fps video sampled at 4 fps: each frame once, for its first moment.
  const auto t = constant_rate(3, 1);
  const auto s = sample_frames(t, 3.0, {.fps = 4, .max_frames = 16});
  EXPECT_EQ(indices(s), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(times(s), (std::vector<double>{0, 1, 2}));
}

TEST(SampleFrames, TheCapSpreadsFramesOverALongVideo) {
  const auto t = constant_rate(600, 10);  // 60 s at 10 fps
  const auto s = sample_frames(t, 60.0, {.fps = 2, .max_frames = 6});
  EXPECT_EQ(indices(s), (std::vector<size_t>{0, 100, 200, 300, 400, 500}));
  EXPECT_EQ(times(s), (std::vector<double>{0, 10, 20, 30, 40, 50}));
}

TEST(SampleFrames, OneFrameAndNoFrames) {
  const std::vector<double> one = {0.4};
  EXPECT_EQ(indices(sample_frames(one, 0.4, {.fps = 1, .max_frames = 16})),
            (std::vector<size_t>{0}));
  EXPECT_TRUE(sample_frames({}, 0, {.fps = 1, .max_frames = 16}).empty());
}

}  // namespace
}  // namespace sluice::media
