#include "model/vision/patchify.h"

#include <algorithm>

namespace sluice {

void patchify(const float* pixels, int64_t size, int64_t patch, float* out) {
  const int64_t per_side = size / patch, cols = 3 * patch * patch;
  for (int64_t py = 0; py < per_side; ++py)
    for (int64_t px = 0; px < per_side; ++px) {
      float* row = out + (py * per_side + px) * cols;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < patch; ++y) {
          const float* src = pixels + (c * size + py * patch + y) * size + px * patch;
          std::copy(src, src + patch, row + (c * patch + y) * patch);
        }
    }
}

void patchify_at(const float* pixels, int64_t height, int64_t width, int64_t patch,
                 const int32_t* py, const int32_t* px, int64_t count, float* out) {
  patchify_frames_at(pixels, 1, height, width, patch, py, px, count, out);
}

void patchify_frames_at(const float* frames, int64_t num_frames, int64_t height, int64_t width,
                        int64_t patch, const int32_t* py, const int32_t* px, int64_t count,
                        float* out) {
  const int64_t cols = 3 * patch * patch, frame_floats = 3 * height * width;
  for (int64_t r = 0; r < count; ++r)
    for (int64_t f = 0; f < num_frames; ++f) {
      float* row = out + (r * num_frames + f) * cols;
      const float* pixels = frames + f * frame_floats;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < patch; ++y) {
          const float* src = pixels + (c * height + py[r] * patch + y) * width + px[r] * patch;
          std::copy(src, src + patch, row + (c * patch + y) * patch);
        }
    }
}

}  // namespace sluice
