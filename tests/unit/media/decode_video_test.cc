// decode_video through FFmpeg on the animated GIF fixture (3 frames, 80 ms each), and the errors
// of bad input. Without FFmpeg in the build, only the refusal is tested.
#include "media/decode_video.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/decode.h"
#include "media_test_util.h"

namespace sluice::media {
namespace {

using testing::read_bytes;

struct Decoded {
  Status status;
  std::vector<double> times;
  std::vector<Image> frames;
};

Decoded decode(const std::vector<uint8_t>& bytes, FrameSampling sampling,
               const VideoLimits& limits = {}) {
  Decoded d;
  d.status = decode_video(bytes, sampling, limits, [&](double t, Image frame) {
    d.times.push_back(t);
    d.frames.push_back(std::move(frame));
  });
  return d;
}

void expect_error(const Decoded& d, const std::string& text) {
  EXPECT_FALSE(d.status) << "decoded " << d.frames.size() << " frames";
  EXPECT_NE(d.status.message().find(text), std::string::npos) << d.status.message();
  EXPECT_TRUE(d.frames.empty());
}

TEST(DecodeVideo, WithoutFfmpegEveryVideoIsRefused) {
  if (video_decoding_available()) GTEST_SKIP() << "built with FFmpeg";
  expect_error(decode(read_bytes("animated_48x32.gif"), {}), "built without FFmpeg");
}

class DecodeVideoFfmpeg : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!video_decoding_available()) GTEST_SKIP() << "built without FFmpeg";
  }
};

TEST_F(DecodeVideoFfmpeg, EveryFrameOfAGifAtItsTime) {
  const Decoded d = decode(read_bytes("animated_48x32.gif"), {.fps = 25, .max_frames = 16});
  ASSERT_TRUE(d.status) << d.status.message();
  ASSERT_EQ(d.frames.size(), 3u);
  EXPECT_NEAR(d.times[0], 0.0, 1e-9);
  EXPECT_NEAR(d.times[1], 0.08, 1e-9);
  EXPECT_NEAR(d.times[2], 0.16, 1e-9);
  for (const Image& f : d.frames) {
    EXPECT_EQ(f.width, 48);
    EXPECT_EQ(f.height, 32);
    EXPECT_EQ(f.rgb.size(), 48u * 32u * 3u);
  }
  EXPECT_NE(d.frames[0].rgb, d.frames[1].rgb);
  EXPECT_NE(d.frames[1].rgb, d.frames[2].rgb);
}

TEST_F(DecodeVideoFfmpeg, TheFirstFrameIsTheImageDecodersFirstFrame) {
  const std::vector<uint8_t> gif = read_bytes("animated_48x32.gif");
  const Decoded d = decode(gif, {.fps = 1, .max_frames = 16});
  ASSERT_TRUE(d.status) << d.status.message();
  ASSERT_EQ(d.frames.size(), 1u);  // 0.24 s at 1 fps: the moment 0 only
  Result<Image> still = decode_image(gif);
  ASSERT_TRUE(still) << still.error();
  EXPECT_EQ(d.frames[0].rgb, still->rgb);
}

TEST_F(DecodeVideoFfmpeg, TheCapSpreadsFramesOverTheDuration) {
  // 0.24 s at 25 fps is 6 moments; 2 of them are 0 and 0.12 s: the frames from 0 and 0.08 s.
  const Decoded d = decode(read_bytes("animated_48x32.gif"), {.fps = 25, .max_frames = 2});
  ASSERT_TRUE(d.status) << d.status.message();
  ASSERT_EQ(d.times.size(), 2u);
  EXPECT_NEAR(d.times[1], 0.12, 1e-9);
  const Decoded all = decode(read_bytes("animated_48x32.gif"), {.fps = 25, .max_frames = 16});
  ASSERT_EQ(all.frames.size(), 3u);
  EXPECT_EQ(d.frames[1].rgb, all.frames[1].rgb);
}

TEST_F(DecodeVideoFfmpeg, BadInputIsAnError) {
  const std::vector<uint8_t> text = {'n', 'o', 't', ' ', 'a', ' ', 'v', 'i', 'd', 'e', 'o'};
  expect_error(decode(text, {}), "not a video");
  expect_error(decode(read_bytes("photo_640x427.jpg"), {}), "unsupported container");
  std::vector<uint8_t> gif = read_bytes("animated_48x32.gif");
  gif.resize(gif.size() / 2);
  const Decoded cut = decode(gif, {.fps = 25, .max_frames = 16});
  // GIF has no index: a cut one is an error or a shorter video, never the whole one.
  EXPECT_FALSE(cut.status && cut.frames.size() == 3u) << "a truncated GIF decoded whole";
}

TEST_F(DecodeVideoFfmpeg, LimitsRefuseBeforeDecoding) {
  const std::vector<uint8_t> gif = read_bytes("animated_48x32.gif");
  VideoLimits short_only;
  short_only.max_duration_s = 0.1;
  expect_error(decode(gif, {}, short_only), "the video lasts 0.2 s, over the limit of 0.1 s");
  VideoLimits small_only;
  small_only.frame.max_pixels = 1000;
  expect_error(decode(gif, {}, small_only), "frames are 48x32 pixels, over the limit");
}

TEST_F(DecodeVideoFfmpeg, TheTimeoutStopsDecoding) {
  VideoLimits no_time;
  no_time.timeout_s = 0;
  expect_error(decode(read_bytes("animated_48x32.gif"), {}, no_time), "decoding took over 0.0 s");
}

}  // namespace
}  // namespace sluice::media
