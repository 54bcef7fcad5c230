#include "media/smart_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/assert.h"

namespace sluice::media {

// The arithmetic is float32 where llama.cpp's is, so that sizes agree on every input.
GridSize smart_resize_size(int width, int height, const SmartResize& limits) {
  SLUICE_ASSERT(width >= 1 && height >= 1 && limits.factor >= 1, "a picture and a factor");
  const int f = limits.factor;
  const float ff = static_cast<float>(f);
  auto round_to = [&](float x) { return static_cast<int>(std::round(x / ff)) * f; };
  auto ceil_to = [&](float x) { return static_cast<int>(std::ceil(x / ff)) * f; };
  auto floor_to = [&](float x) { return static_cast<int>(std::floor(x / ff)) * f; };
  int w = std::max(f, round_to(static_cast<float>(width)));
  int h = std::max(f, round_to(static_cast<float>(height)));
  const int64_t area = int64_t{w} * h;
  if (limits.max_pixels > 0 && area > limits.max_pixels) {
    const float beta = std::sqrt(static_cast<float>(height) * static_cast<float>(width) /
                                 static_cast<float>(limits.max_pixels));
    h = std::max(f, floor_to(static_cast<float>(height) / beta));
    w = std::max(f, floor_to(static_cast<float>(width) / beta));
  } else if (limits.min_pixels > 0 && area < limits.min_pixels) {
    const float beta = std::sqrt(static_cast<float>(limits.min_pixels) /
                                 (static_cast<float>(height) * static_cast<float>(width)));
    h = ceil_to(static_cast<float>(height) * beta);
    w = ceil_to(static_cast<float>(width) * beta);
  }
  return {w, h};
}

GridSize hf_smart_resize_size(int width, int height, const SmartResize& limits) {
  SLUICE_ASSERT(width >= 1 && height >= 1 && limits.factor >= 1, "a picture and a factor");
  const double f = limits.factor, h = height, w = width;
  // std::nearbyint rounds half to even in the default rounding mode, as Python's round.
  auto round_to = [&](double x) { return static_cast<int>(std::nearbyint(x / f)) * limits.factor; };
  auto ceil_to = [&](double x) { return static_cast<int>(std::ceil(x / f)) * limits.factor; };
  auto floor_to = [&](double x) { return static_cast<int>(std::floor(x / f)) * limits.factor; };
  int hb = round_to(h), wb = round_to(w);
  const int64_t area = int64_t{hb} * wb;
  if (limits.max_pixels > 0 && area > limits.max_pixels) {
    const double beta = std::sqrt(h * w / static_cast<double>(limits.max_pixels));
    hb = std::max(limits.factor, floor_to(h / beta));
    wb = std::max(limits.factor, floor_to(w / beta));
  } else if (limits.min_pixels > 0 && area < limits.min_pixels) {
    const double beta = std::sqrt(static_cast<double>(limits.min_pixels) / (h * w));
    hb = ceil_to(h * beta);
    wb = ceil_to(w * beta);
  }
  return {std::max(wb, limits.factor), std::max(hb, limits.factor)};  // 0 only with no minimum
}

Image resize_padded(const Image& image, int width, int height, Resample resample) {
  SLUICE_ASSERT(width >= 1 && height >= 1, "a canvas of at least one pixel");
  if (image.width == width && image.height == height) return image;
  const float scale = std::min(static_cast<float>(width) / static_cast<float>(image.width),
                               static_cast<float>(height) / static_cast<float>(image.height));
  const int inner_w = std::max(
      1, std::min(static_cast<int>(std::ceil(static_cast<float>(image.width) * scale)), width));
  const int inner_h = std::max(
      1, std::min(static_cast<int>(std::ceil(static_cast<float>(image.height) * scale)), height));
  const Image inner = resize(image, inner_w, inner_h, resample);
  Image out;
  out.width = width, out.height = height;
  out.rgb.assign(static_cast<size_t>(width) * height * 3, 0);
  const int x0 = (width - inner_w) / 2, y0 = (height - inner_h) / 2;
  for (int y = 0; y < inner_h; ++y)
    std::memcpy(&out.rgb[(static_cast<size_t>(y0 + y) * width + x0) * 3],
                &inner.rgb[static_cast<size_t>(y) * inner_w * 3], static_cast<size_t>(inner_w) * 3);
  return out;
}

Image smart_resize(const Image& image, const SmartResize& limits) {
  const GridSize s = smart_resize_size(image.width, image.height, limits);
  return resize_padded(image, s.width, s.height, Resample::kBicubic);
}

}  // namespace sluice::media
