#include "model/vision/qwen2vl_batch.h"

#include <algorithm>

#include "model/vision/patchify.h"
#include "model/vision/qwen2vl_layout.h"

namespace sluice {

Qwen2vlBatch qwen2vl_batch(const VisionConfig& c, const float* pixels,
                           std::span<const ImageSize> sizes, int64_t frames) {
  Qwen2vlBatch b;
  const int64_t P = c.patch_size, cols = frames * 3 * P * P;
  const int64_t window = c.full_attention_every > 0 ? c.window_size / c.size_multiple() : 0;
  b.image_start.push_back(0);
  b.window_start.push_back(0);
  for (const ImageSize& size : sizes) {
    const Qwen2vlLayout l = qwen2vl_layout(size.height / P, size.width / P, c.merge_size, window);
    const int64_t rows = static_cast<int64_t>(l.pos_y.size()), first = b.image_start.back();
    const int32_t first_unit = static_cast<int32_t>(first / (c.merge_size * c.merge_size));
    b.patches.resize(static_cast<size_t>((first + rows) * cols));
    patchify_frames_at(pixels, frames, size.height, size.width, P, l.pos_y.data(), l.pos_x.data(),
                       rows, b.patches.data() + first * cols);
    pixels += frames * 3 * size.height * size.width;
    b.pos_y.insert(b.pos_y.end(), l.pos_y.begin(), l.pos_y.end());
    b.pos_x.insert(b.pos_x.end(), l.pos_x.begin(), l.pos_x.end());
    for (size_t w = 1; w < l.window_start.size(); ++w) {
      b.window_start.push_back(static_cast<int32_t>(first + l.window_start[w]));
      b.max_window_rows =
          std::max<int64_t>(b.max_window_rows, l.window_start[w] - l.window_start[w - 1]);
    }
    for (int32_t t : l.token_row) b.token_rows.push_back(first_unit + t);
    b.image_start.push_back(static_cast<int32_t>(first + rows));
    b.max_image_rows = std::max(b.max_image_rows, rows);
  }
  return b;
}

}  // namespace sluice
