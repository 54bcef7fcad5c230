#pragma once
// Where each patch of a Qwen2-VL / Qwen2.5-VL image goes in the encoder's rows, which rows
// attend together, and where each output token comes from (transformers' Qwen2VLImageProcessor
// patch order and Qwen2_5_VisionTransformer.get_window_index; llama.cpp's window_idx):
//
//   patch grid (raster)     2x2 merge units               windows of 4x4 units (112 px)
//   . . . .                 rows of a unit adjacent:      units of a window adjacent,
//   . . . .        ->       (y, x) (y, x+1) (y+1, x)  ->  windows in raster order, units in
//                           (y+1, x+1), units raster      raster order within their window
//
// The merger joins each unit's rows, so its output is in window order; token_row puts it back
// in raster order. Windows at the right and bottom edges may be smaller.
#include <cstdint>
#include <vector>

namespace sluice {

struct Qwen2vlLayout {
  int64_t grid_h = 0, grid_w = 0;     // patches per column and per row
  std::vector<int32_t> pos_y, pos_x;  // [grid_h * grid_w] the patch (row, column) of each row
  std::vector<int32_t> window_start;  // [num_windows + 1] the rows of each attention window
  std::vector<int32_t> token_row;     // [(grid_h / merge) * (grid_w / merge)] merger row of token t
};

// grid_h, grid_w: positive multiples of merge; window: merge units per window side, 0 for one
// window holding the whole image (Qwen2-VL).
Qwen2vlLayout qwen2vl_layout(int64_t grid_h, int64_t grid_w, int64_t merge, int64_t window);

}  // namespace sluice
