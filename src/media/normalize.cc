#include "media/normalize.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::media {

std::vector<float> normalize_to_chw(const Image& image, const Normalization& n) {
  const size_t plane = static_cast<size_t>(image.width) * image.height;
  std::vector<float> out(3 * plane);
  for (int c = 0; c < 3; ++c) {
    // A byte has 256 values: compute each once, in HF's precisions and order.
    std::array<float, 256> value;
    const float mean = static_cast<float>(n.mean[c]);
    const float stddev = static_cast<float>(n.stddev[c]);
    for (int v = 0; v < 256; ++v) {
      const float rescaled = static_cast<float>(static_cast<double>(v) * n.rescale_factor);
      value[v] = (rescaled - mean) / stddev;
    }
    float* dst = out.data() + c * plane;
    for (size_t i = 0; i < plane; ++i) dst[i] = value[image.rgb[3 * i + c]];
  }
  return out;
}

}  // namespace sluice::media
