#pragma once
// Resizing exactly as Pillow's Image.resize((width, height), resample) does for an RGB image,
// which is what Hugging Face's image processors call (Gemma 3: 896x896 BILINEAR; Qwen2-VL:
// BICUBIC to multiples of 28). BILINEAR and BICUBIC are a separable convolution (one pass per
// axis, in Pillow 13's order) whose support widens by the scale when downscaling (antialiasing),
// with 22-bit fixed-point taps and rounding/clamping to uint8 after each pass. NEAREST samples the
// source pixel under each output pixel's center. The output matches Pillow's bytes exactly.
#include "media/image.h"

namespace sluice::media {

enum class Resample { kNearest, kBilinear, kBicubic };

// width, height >= 1. The same size returns a copy.
Image resize(const Image& image, int width, int height, Resample resample);

}  // namespace sluice::media
