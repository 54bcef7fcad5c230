#pragma once
// RGB8 pixels -> the float tensor an image encoder takes, as Hugging Face's BaseImageProcessor
// computes it: rescale (uint8 * factor in float64, stored as float32), then normalize
// ((x - mean) / std in float32, mean and std rounded to float32), channels first.
#include <array>
#include <vector>

#include "media/image.h"

namespace sluice::media {

struct Normalization {
  double rescale_factor = 1.0 / 255.0;             // 1.0 when the processor does not rescale
  std::array<double, 3> mean = {0.0, 0.0, 0.0};    // {0, 0, 0} and {1, 1, 1} when it does not
  std::array<double, 3> stddev = {1.0, 1.0, 1.0};  // normalize
};

std::vector<float> normalize_to_chw(const Image& image, const Normalization& n);  // [3, h, w]

}  // namespace sluice::media
