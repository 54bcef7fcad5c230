// Q4G32R8, Q4G32 with rows interleaved in eights: its rows read back as Q4G32's through every
// host accessor (dequantize_row, rows_view, select_rows), so embeddings, routers and split
// tensors of a model loaded with it hold the same values.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "backend/quant_blocks.h"
#include "backend/weight.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::random_weight;

std::vector<float> rows_of(const Weight& w) {
  std::vector<float> out(w.rows * w.cols);
  for (int64_t r = 0; r < w.rows; ++r) dequantize_row(w, r, out.data() + r * w.cols);
  return out;
}

TEST(Rows8Layout, ReadsBackAsQ4G32) {
  const Weight w = random_weight(DType::Q4G32, 24, 96, 7);
  const Weight w8 = q4g32_to_rows8(w);
  EXPECT_EQ(w8.dtype, DType::Q4G32R8);
  EXPECT_EQ(w8.nbytes(), w.nbytes());
  EXPECT_NE(0, std::memcmp(w8.data, w.data, w.nbytes())) << "the rows are interleaved";
  EXPECT_EQ(rows_of(w8), rows_of(w));
  // Row 9's block 2, interleaved: group 1, lane 1.
  const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w8.row(8));
  const BlockQ4G32 back = q4g32r8_row_block(g[2], 1);
  EXPECT_EQ(0, std::memcmp(&back, w.row(9) + 2 * sizeof(BlockQ4G32), sizeof(BlockQ4G32)));

  const Weight whole = w8.rows_view(8, 16);  // whole groups: a view, still interleaved
  EXPECT_EQ(whole.dtype, DType::Q4G32R8);
  EXPECT_EQ(rows_of(whole), rows_of(w.rows_view(8, 16)));
  const Weight part = w8.rows_view(3, 10);  // not whole groups: copied out as Q4G32
  EXPECT_EQ(part.dtype, DType::Q4G32);
  EXPECT_EQ(0, std::memcmp(part.data, w.row(3), part.nbytes()));
  const Weight picked = w8.select_rows({23, 0, 9});
  EXPECT_EQ(picked.dtype, DType::Q4G32);
  EXPECT_EQ(0, std::memcmp(picked.data, w.select_rows({23, 0, 9}).data, picked.nbytes()));
}

}  // namespace
}  // namespace sluice
