// Qwen2-VL's sizing as llama.cpp's libmtmd computes it (float32, halves away from zero, its 8 to
// 4096 tokens of 28 x 28 px), and its aspect-keeping resize onto a black canvas.
#include "media/smart_resize.h"

#include <gtest/gtest.h>

#include <numeric>

namespace sluice::media {
namespace {

constexpr SmartResize kQwen = {28, 8 * 28 * 28, 4096 * 28 * 28};

// size(width, height, limits) is (want_w, want_h).
using SizeFn = GridSize (*)(int, int, const SmartResize&);
void expect_sized(SizeFn size, const SmartResize& limits, int width, int height, int want_w,
                  int want_h) {
  SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
  const GridSize s = size(width, height, limits);
  EXPECT_EQ(s.width, want_w);
  EXPECT_EQ(s.height, want_h);
}

void expect_size(int width, int height, int want_w, int want_h) {
  expect_sized(smart_resize_size, kQwen, width, height, want_w, want_h);
}

TEST(SmartResize, SidesRoundToTheNearestMultiple) {
  expect_size(100, 50, 112, 56);    // 3.57 -> 4, 1.79 -> 2 (exactly the minimum area)
  expect_size(640, 480, 644, 476);  // 22.86 -> 23, 17.14 -> 17
  expect_size(1920, 1080, 1932, 1092);
  expect_size(28, 10000, 28, 9996);  // no aspect-ratio limit (transformers refuses above 200)
  expect_size(224, 224, 224, 224);
}

TEST(SmartResize, HalvesRoundAwayFromZero) {
  expect_size(70, 112, 84, 112);  // 2.5 -> 3 (Python's round gives 2: transformers picks 56)
  expect_size(42, 280, 56, 280);  // 1.5 -> 2
}

TEST(SmartResize, SmallPicturesGrowToTheMinimumArea) {
  expect_size(84, 56, 112, 84);  // 6 tokens < 8: scaled by sqrt(6272 / 4704) and ceiled
  expect_size(1, 1, 84, 84);
}

TEST(SmartResize, LargePicturesShrinkBelowTheMaximumArea) {
  expect_size(4000, 3000, 2044, 1540);  // scaled by 1 / sqrt(12e6 / 3211264) and floored
  const GridSize s = smart_resize_size(4000, 3000, kQwen);
  EXPECT_LE(int64_t{s.width} * s.height, kQwen.max_pixels);
}

Image gradient(int width, int height) {
  Image im;
  im.width = width, im.height = height;
  im.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < im.rgb.size(); ++i) im.rgb[i] = static_cast<uint8_t>(37 + i * 7 % 200);
  return im;
}

TEST(ResizePadded, FitsTheAspectRatioAndCentersOnBlack) {
  const Image src = gradient(30, 20);
  // scale min(60/30, 60/20) = 2: 60 x 40 inside, 10 black rows above and below.
  const Image out = resize_padded(src, 60, 60, Resample::kBicubic);
  ASSERT_EQ(out.width, 60);
  ASSERT_EQ(out.height, 60);
  const Image inner = resize(src, 60, 40, Resample::kBicubic);
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 60 * 3; ++x) {
      const uint8_t got = out.rgb[static_cast<size_t>(y) * 60 * 3 + x];
      const bool inside = y >= 10 && y < 50;
      ASSERT_EQ(got, inside ? inner.rgb[static_cast<size_t>(y - 10) * 60 * 3 + x] : 0)
          << "row " << y << " byte " << x;
    }
}

TEST(ResizePadded, OddMarginsLeaveTheExtraColumnOnTheRight) {
  // 5 x 3 into 8 x 3: scale min(1.6, 1) = 1, so 5 x 3 unscaled at x = (8 - 5) / 2 = 1.
  const Image src = gradient(5, 3);
  const Image out = resize_padded(src, 8, 3, Resample::kBicubic);
  for (int y = 0; y < 3; ++y) {
    EXPECT_EQ(out.rgb[(y * 8 + 0) * 3], 0);
    EXPECT_EQ(out.rgb[(y * 8 + 1) * 3], src.rgb[(y * 5 + 0) * 3]);
    EXPECT_EQ(out.rgb[(y * 8 + 5) * 3 + 2], src.rgb[(y * 5 + 4) * 3 + 2]);
    EXPECT_EQ(out.rgb[(y * 8 + 6) * 3], 0);
    EXPECT_EQ(out.rgb[(y * 8 + 7) * 3], 0);
  }
}

TEST(ResizePadded, SameSizeIsACopyAndSmartResizeCombinesBoth) {
  const Image src = gradient(56, 84);
  EXPECT_EQ(resize_padded(src, 56, 84, Resample::kBicubic).rgb, src.rgb);
  const Image small = gradient(84, 56);
  const Image out = smart_resize(small, kQwen);
  EXPECT_EQ(out.width, 112);
  EXPECT_EQ(out.height, 84);
  EXPECT_EQ(out.rgb, resize_padded(small, 112, 84, Resample::kBicubic).rgb);
}

// transformers' smart_resize with Qwen2VLVideoProcessor's limits (128 to 768 tokens a frame);
// expected sizes from its Python (height, width) -> (h_bar, w_bar).
constexpr SmartResize kQwenVideo = {28, 128 * 28 * 28, 768 * 28 * 28};

void expect_hf_size(int width, int height, int want_w, int want_h) {
  expect_sized(hf_smart_resize_size, kQwenVideo, width, height, want_w, want_h);
}

TEST(HfSmartResize, VideoLimitsAndHalvesToEven) {
  expect_hf_size(640, 480, 644, 476);     // within the limits: nearest multiples
  expect_hf_size(1920, 1080, 1008, 560);  // above 768 tokens: scaled down and floored
  expect_hf_size(64, 48, 392, 280);       // below 128 tokens: scaled up and ceiled
  expect_hf_size(350, 336, 336, 336);     // 12.5 -> 12 (llama.cpp's rule gives 13)
  expect_hf_size(378, 378, 392, 392);     // 13.5 -> 14
  expect_hf_size(100, 6000, 84, 5992);    // no aspect-ratio limit here
}

}  // namespace
}  // namespace sluice::media
