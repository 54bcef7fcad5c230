#pragma once
// Qwen2-VL's image sizing as llama.cpp's libmtmd does it (mtmd-image.cpp:
// calc_size_preserved_ratio, then img_tool::resize with PAD_CEIL): each side a multiple of
// `factor` (patch * merge = 28), the aspect ratio about kept, the area within the limits; the
// picture scaled to fit (Pillow BICUBIC) and centered on black.
//
// transformers' Qwen2VLImageProcessor.smart_resize differs: it rounds in float64 and to even on
// exact halves (Python's round; llama.cpp rounds float32 halves away from zero), its limits are
// the preprocessor_config's min_pixels / max_pixels (3136 / 12845056 for Qwen2.5-VL; llama.cpp
// uses 8 and 4096 tokens: 6272 / 3211264), it stretches the picture to the target size instead
// of padding it, and it refuses an aspect ratio above 200.
#include <cstdint>

#include "media/image.h"
#include "media/resize.h"

namespace sluice::media {

struct GridSize {
  int width = 0, height = 0;
};

struct SmartResize {
  int factor = 28;
  int64_t min_pixels = 0;  // 0: no lower limit
  int64_t max_pixels = 0;  // 0: no upper limit
};

// The target size of a width x height picture (both >= 1): sides rounded to the nearest
// multiple of factor (at least factor); above max_pixels both scaled down by
// sqrt(area / max_pixels) and floored to multiples, below min_pixels scaled up and ceiled.
GridSize smart_resize_size(int width, int height, const SmartResize& limits);

// transformers' smart_resize (Qwen2VLImageProcessor, Qwen2VLVideoProcessor), which sluice uses
// for video frames (libmtmd takes no video): float64, sides rounded half to even (Python's round)
// and not floored at factor before the limits apply; no aspect-ratio check.
GridSize hf_smart_resize_size(int width, int height, const SmartResize& limits);

// The picture scaled by min(width / its width, height / its height) to sides rounded up (at most
// width x height) with `resample`, centered (offsets rounded down) on a black width x height
// canvas; a picture of that size already is copied as it is.
Image resize_padded(const Image& image, int width, int height, Resample resample);

// Both: the picture llama.cpp's Qwen2-VL preprocessor hands to the encoder (before
// normalizing), BICUBIC.
Image smart_resize(const Image& image, const SmartResize& limits);

}  // namespace sluice::media
