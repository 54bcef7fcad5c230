#include "engine/mrope_positions.h"

#include <algorithm>
#include <cmath>

namespace sluice {

int32_t ImageGrid::t_of(int32_t f) const {
  // transformers' (arange(frames) * interval).long(); the epsilon keeps exact products exact.
  return static_cast<int32_t>(std::floor(f * t_step + 1e-6));
}

int32_t ImageGrid::advance() const {
  return std::max({t_of(frames - 1) + 1, rows, cols});
}

ImageGrid image_grid(const ImageInput& im, const VisionConfig& c) {
  constexpr int32_t pair = kFramesPerTemporalPatch;
  const int64_t side = c.size_multiple();  // pixels per token (28)
  ImageGrid g;
  g.offset = im.offset;
  g.rows = static_cast<int32_t>(im.height / side), g.cols = static_cast<int32_t>(im.width / side);
  if (!im.is_video()) return g;
  g.frames = (im.num_frames + pair - 1) / pair;
  if (c.projector == ProjectorType::kQwen25VL)
    g.t_step = c.tokens_per_second * pair * im.frame_interval_s;
  return g;
}

void append_mrope_positions(std::span<const ImageGrid> images, int32_t begin, int32_t end,
                            std::array<std::vector<int32_t>, 4>& planes) {
  int32_t shift = 0;
  size_t next = 0;  // the first image not wholly before token i
  auto skip_done = [&](int32_t i) {
    for (; next < images.size() && images[next].offset + images[next].num_tokens() <= i; ++next)
      shift += images[next].advance() - images[next].num_tokens();
  };
  for (int32_t i = begin; i < end; ++i) {
    skip_done(i);
    if (next < images.size() && i >= images[next].offset) {
      const ImageGrid& g = images[next];
      const int32_t p0 = g.offset + shift, k = i - g.offset, per_frame = g.rows * g.cols;
      const int32_t r = k % per_frame;
      planes[0].push_back(p0 + g.t_of(k / per_frame));
      planes[1].push_back(p0 + r / g.cols);
      planes[2].push_back(p0 + r % g.cols);
      planes[3].push_back(0);
      continue;
    }
    for (auto& plane : planes) plane.push_back(i + shift);
  }
}

}  // namespace sluice
