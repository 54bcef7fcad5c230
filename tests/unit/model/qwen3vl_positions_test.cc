// Qwen3-VL's learned positions resampled to an image's patch grid (qwen3vl_positions.h):
// bilinear with aligned corners, as transformers' fast_pos_embed_interpolate.
#include "model/vision/qwen3vl_positions.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice {
namespace {

// Every patch of a grid_h x grid_w grid in raster order.
std::vector<float> resample(const std::vector<float>& table, int64_t side, int64_t hidden,
                            int64_t grid_h, int64_t grid_w) {
  std::vector<int32_t> ys, xs;
  for (int32_t y = 0; y < grid_h; ++y)
    for (int32_t x = 0; x < grid_w; ++x) ys.push_back(y), xs.push_back(x);
  std::vector<float> out(ys.size() * hidden);
  qwen3vl_position_rows(table.data(), side, hidden, grid_h, grid_w, ys.data(), xs.data(),
                        static_cast<int64_t>(ys.size()), out.data());
  return out;
}

TEST(Qwen3vlPositions, GridOfTheTablesSizeReadsItsRows) {
  std::vector<float> table(4 * 4 * 2);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i) * 0.5f - 3.0f;
  EXPECT_EQ(resample(table, 4, 2, 4, 4), table);
}

TEST(Qwen3vlPositions, AlignedCornersAndBilinearMidpoints) {
  // table [2, 2, 1]: 0 1 / 10 11; a 3 x 5 grid: corners exact, (1, 2) the mean of all four
  const std::vector<float> out = resample({0, 1, 10, 11}, 2, 1, 3, 5);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[4], 1.0f);
  EXPECT_FLOAT_EQ(out[10], 10.0f);
  EXPECT_FLOAT_EQ(out[14], 11.0f);
  EXPECT_FLOAT_EQ(out[1 * 5 + 2], 5.5f);
  EXPECT_FLOAT_EQ(out[0 * 5 + 1], 0.25f);  // a quarter of the way along the top row
  EXPECT_FLOAT_EQ(out[1 * 5 + 0], 5.0f);   // halfway down the left column
}

TEST(Qwen3vlPositions, ShrinkingSamplesBetweenRows) {
  // side 5 -> 2 x 3: rows 0 and 4, columns 0, 2 and 4 of a table whose value is 10 y + x
  std::vector<float> table;
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 5; ++x) table.push_back(static_cast<float>(10 * y + x));
  EXPECT_EQ(resample(table, 5, 1, 2, 3), (std::vector<float>{0, 2, 4, 40, 42, 44}));
  // 4 x 4 from 5: y = 4/3 -> 13.33 + x 4/3 steps
  const std::vector<float> four = resample(table, 5, 1, 4, 4);
  EXPECT_NEAR(four[1 * 4 + 1], 10.0f * 4 / 3 + 4.0f / 3, 1e-5f);
}

}  // namespace
}  // namespace sluice
