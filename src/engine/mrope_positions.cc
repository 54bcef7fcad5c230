#include "engine/mrope_positions.h"

#include <algorithm>

namespace sluice {

void append_mrope_positions(std::span<const ImageGrid> images, int32_t begin, int32_t end,
                            std::array<std::vector<int32_t>, 4>& planes) {
  int32_t shift = 0;
  size_t next = 0;  // the first image not wholly before token i
  auto skip_done = [&](int32_t i) {
    for (; next < images.size() && images[next].offset + images[next].rows * images[next].cols <= i;
         ++next)
      shift +=
          std::max(images[next].rows, images[next].cols) - images[next].rows * images[next].cols;
  };
  for (int32_t i = begin; i < end; ++i) {
    skip_done(i);
    if (next < images.size() && i >= images[next].offset) {
      const ImageGrid& g = images[next];
      const int32_t p0 = g.offset + shift, k = i - g.offset;
      planes[0].push_back(p0);
      planes[1].push_back(p0 + k / g.cols);
      planes[2].push_back(p0 + k % g.cols);
      planes[3].push_back(0);
      continue;
    }
    for (auto& plane : planes) plane.push_back(i + shift);
  }
}

}  // namespace sluice
