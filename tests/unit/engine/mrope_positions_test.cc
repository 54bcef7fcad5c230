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

TEST(MropePositions, TextAloneIsItsIndex) {
  const Planes p = positions({}, 5, 9);
  for (const auto& plane : p) EXPECT_EQ(plane, (std::vector<int32_t>{5, 6, 7, 8}));
}

}  // namespace
}  // namespace sluice
