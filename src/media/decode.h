#pragma once
// Bytes -> RGB8 pixels. The format comes from the magic bytes only (never a file name or MIME
// type); every other pixel layout (gray, palette, alpha, CMYK, 16-bit) becomes RGB8 the way
// Pillow's Image.open(f).convert("RGB") does: alpha dropped, not composited. Only the first frame
// of an animation. Truncated or corrupt input is an error, never a partial image or a crash.
#include <cstdint>
#include <span>

#include "common/status.h"
#include "media/image.h"

namespace sluice::media {

// The decompression-bomb guard: checked against the header's dimensions before any pixel
// memory is allocated.
struct DecodeLimits {
  int64_t max_pixels = 40'000'000;
  int max_side = 16384;
};

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif };

ImageFormat sniff_image_format(std::span<const uint8_t> bytes);
const char* image_format_name(ImageFormat format);  // "JPEG", "PNG", "WebP", "GIF", "unknown"

// Errors read "[image] unsupported image format (not JPEG, PNG, WebP or GIF)",
// "[image] corrupt or truncated PNG: ...", "[image] image is WxH pixels, over the limit of N".
Result<Image> decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

}  // namespace sluice::media
