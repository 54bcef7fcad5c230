#pragma once
// The host side of one Qwen2-VL encoder call over several images of any (valid) sizes: patch
// rows in each image's window order (qwen2vl_layout.h), images one after another, and the
// bookkeeping the encoder and merger read.
#include <cstdint>
#include <span>
#include <vector>

#include "model/vision/vision_config.h"

namespace sluice {

struct Qwen2vlBatch {
  std::vector<float> patches;         // [n, frames * 3 * patch * patch]
  std::vector<int32_t> pos_y, pos_x;  // [n] each row's patch in its own image's grid
  std::vector<int32_t> image_start;   // [num_images + 1] rows of each image
  std::vector<int32_t> window_start;  // [num_windows + 1] rows of each attention window
  std::vector<int32_t> token_rows;    // [m] merger row of each output token (images in order,
                                      // each image's tokens in raster order)
  int64_t max_image_rows = 0, max_window_rows = 0;
};

// pixels: image i [frames, 3, sizes[i].height, sizes[i].width] after image i-1 (frames 2: a
// video's temporal patch, its two frames' patches side by side in a row); every size one that
// c.size_error() accepts. Windows: c.window_size / (patch * merge) units per side where the
// model has windowed layers, else one per image.
Qwen2vlBatch qwen2vl_batch(const VisionConfig& c, const float* pixels,
                           std::span<const ImageSize> sizes, int64_t frames = 1);

}  // namespace sluice
