// M-RoPE positions against hand-written ones (Qwen2-VL's get_rope_index on the same layout).
#include "engine/mrope_positions.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice {
namespace {

using Planes = std::array<std::vector<int32_t>, 4>;

Planes positions(const std::vector<ImageGrid>& images, int32_t begin, int32_t end) {
  Planes p;
  append_mrope_positions(images, begin, end, p);
  return p;
}

// The header's picture: two text tokens, a 2x3 image, two text tokens.
TEST(MropePositions, ImageGridThenTextAtItsLongerSide) {
  const std::vector<ImageGrid> images = {{2, 2, 3}};
  const Planes p = positions(images, 0, 10);
  EXPECT_EQ(p[0], (std::vector<int32_t>{0, 1, 2, 2, 2, 2, 2, 2, 5, 6}));
  EXPECT_EQ(p[1], (std::vector<int32_t>{0, 1, 2, 2, 2, 3, 3, 3, 5, 6}));
  EXPECT_EQ(p[2], (std::vector<int32_t>{0, 1, 2, 3, 4, 2, 3, 4, 5, 6}));
  EXPECT_EQ(p[3], (std::vector<int32_t>{0, 1, 0, 0, 0, 0, 0, 0, 5, 6}));
}

// Two images (a tall one, then one row): each shifts what follows by max(rows, cols) - tokens.
TEST(MropePositions, ShiftsAddUpOverImages) {
  const std::vector<ImageGrid> images = {{1, 3, 2}, {8, 1, 4}};
  const Planes p = positions(images, 0, 14);
  // tokens: t0 | img a (6) idx 1..6 | t7 | img b (4) idx 8..11 | t12 t13
  EXPECT_EQ(p[0], (std::vector<int32_t>{0, 1, 1, 1, 1, 1, 1, 4, 5, 5, 5, 5, 9, 10}));
  EXPECT_EQ(p[1], (std::vector<int32_t>{0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 5, 5, 9, 10}));
  EXPECT_EQ(p[2], (std::vector<int32_t>{0, 1, 2, 1, 2, 1, 2, 4, 5, 6, 7, 8, 9, 10}));
}

// Any split into chunks (prefill chunks, decodes, a recompute from a cached prefix) gives the
// same positions as one pass; decodes past the prompt keep the prompt's shift.
TEST(MropePositions, ChunksEqualOnePass) {
  const std::vector<ImageGrid> images = {{3, 4, 5}, {25, 2, 2}, {40, 6, 1}};
  const Planes whole = positions(images, 0, 60);
  for (int32_t step : {1, 2, 7, 16}) {
    Planes parts;
    for (int32_t b = 0; b < 60; b += step)
      append_mrope_positions(images, b, std::min(60, b + step), parts);
    EXPECT_EQ(parts, whole) << "chunks of " << step;
  }
  const int32_t shift = (5 - 20) + (2 - 4) + (6 - 6);
  for (int32_t i = 46; i < 60; ++i)
    for (int plane = 0; plane < 4; ++plane) EXPECT_EQ(whole[plane][i], i + shift);
}

ImageGrid video(int32_t offset, int32_t frames, int32_t rows, int32_t cols, double t_step) {
  ImageGrid g{offset, rows, cols};
  g.frames = frames, g.t_step = t_step;
  return g;
}

// Qwen2-VL (t_step 1): t = the temporal patch; h, w restart in each patch; the text after it
// starts past the largest position (3 patches > 2 rows, 2 cols).
TEST(MropePositions, VideoTAdvancesPerTemporalPatch) {
  const std::vector<ImageGrid> images = {video(1, 3, 2, 2, 1.0)};
  const Planes p = positions(images, 0, 15);
  // tokens: a | 3 patches of 2x2 (idx 1..12) | b c
  EXPECT_EQ(p[0], (std::vector<int32_t>{0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5}));
  EXPECT_EQ(p[1], (std::vector<int32_t>{0, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2, 4, 5}));
  EXPECT_EQ(p[2], (std::vector<int32_t>{0, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 4, 5}));
  EXPECT_EQ(p[3], (std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 5}));
}

// The header's picture: Qwen2.5-VL at 2 tokens per second, a frame every 0.5 s (second_per_grid_t
// 1): t steps by 2 per patch; the text starts at the last t + 1.
TEST(MropePositions, VideoTStepsByTimeInQwen25) {
  const Planes p = positions({{video(1, 3, 1, 2, 2.0)}}, 0, 8);
  EXPECT_EQ(p[0], (std::vector<int32_t>{0, 1, 1, 3, 3, 5, 5, 6}));
  EXPECT_EQ(p[1], (std::vector<int32_t>{0, 1, 1, 1, 1, 1, 1, 6}));
  EXPECT_EQ(p[2], (std::vector<int32_t>{0, 1, 2, 1, 2, 1, 2, 6}));
}

// A fractional step is floored per patch (transformers' (arange(t) * interval).long()), not
// per step: 1.5 gives 0, 1, 3, 4.
TEST(MropePositions, FractionalTStepFloorsEachPatch) {
  const Planes p = positions({{video(0, 4, 1, 1, 1.5)}}, 0, 6);
  EXPECT_EQ(p[0], (std::vector<int32_t>{0, 1, 3, 4, 5, 6}));
  EXPECT_EQ(p[1], (std::vector<int32_t>{0, 0, 0, 0, 5, 6}));
}

// A short clip of a wide grid advances by its longer side, as an image does.
TEST(MropePositions, ShortVideoAdvancesByItsLongerSide) {
  const Planes p = positions({{video(0, 2, 3, 4, 1.0)}}, 24, 26);
  EXPECT_EQ(p[0], (std::vector<int32_t>{4, 5}));  // 24 + (4 - 24)
}

TEST(MropePositions, ChunksEqualOnePassWithVideos) {
  const std::vector<ImageGrid> images = {
      video(2, 3, 2, 3, 2.0), {22, 3, 1}, video(30, 2, 1, 2, 0.7)};
  const Planes whole = positions(images, 0, 40);
  for (int32_t step : {1, 3, 5, 16}) {
    Planes parts;
    for (int32_t b = 0; b < 40; b += step)
      append_mrope_positions(images, b, std::min(40, b + step), parts);
    EXPECT_EQ(parts, whole) << "chunks of " << step;
  }
  // advances: max(4 + 1, 2, 3) = 5 for 18 tokens; 3 for 3; max(0 + 1, 1, 2) = 2 for 4
  const int32_t shift = (5 - 18) + (3 - 3) + (2 - 4);
  for (int32_t i = 34; i < 40; ++i) EXPECT_EQ(whole[0][i], i + shift);
}

// A clip's grid from the request: frame pairs (an odd count rounds up), and t_step from the
// time between frames in Qwen2.5-VL only.
TEST(MropePositions, ClipGridsByFamily) {
  VisionConfig c;
  c.projector = ProjectorType::kQwen25VL;
  c.patch_size = 14, c.merge_size = 2;
  ImageInput clip;
  clip.offset = 7, clip.height = 56, clip.width = 84, clip.num_frames = 5;
  clip.frame_interval_s = 0.25;  // 4 frames a second: second_per_grid_t 0.5
  ImageGrid g = image_grid(clip, c);
  EXPECT_EQ(g.offset, 7);
  EXPECT_EQ(g.rows, 2);
  EXPECT_EQ(g.cols, 3);
  EXPECT_EQ(g.frames, 3);
  EXPECT_DOUBLE_EQ(g.t_step, 1.0);  // 2 tokens per second * 0.5 s
  c.tokens_per_second = 25;
  EXPECT_DOUBLE_EQ(image_grid(clip, c).t_step, 12.5);
  c.projector = ProjectorType::kQwen2VL;
  EXPECT_DOUBLE_EQ(image_grid(clip, c).t_step, 1.0);
  ImageInput still = clip;
  still.num_frames = 0;
  g = image_grid(still, c);
  EXPECT_EQ(g.frames, 1);
  EXPECT_EQ(g.num_tokens(), 6);
}

TEST(MropePositions, TextAloneIsItsIndex) {
  const Planes p = positions({}, 5, 9);
  for (const auto& plane : p) EXPECT_EQ(plane, (std::vector<int32_t>{5, 6, 7, 8}));
}

}  // namespace
}  // namespace sluice
