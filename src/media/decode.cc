#include "media/decode.h"

#include <cstring>

#include "media/decoders.h"

namespace sluice::media {

namespace {

bool starts_with(std::span<const uint8_t> bytes, size_t offset, const char* magic) {
  const size_t n = std::strlen(magic);
  return bytes.size() >= offset + n && std::memcmp(bytes.data() + offset, magic, n) == 0;
}

}  // namespace

ImageFormat sniff_image_format(std::span<const uint8_t> bytes) {
  if (starts_with(bytes, 0, "\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (starts_with(bytes, 0, "\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (starts_with(bytes, 0, "RIFF") && starts_with(bytes, 8, "WEBP")) return ImageFormat::kWebp;
  if (starts_with(bytes, 0, "GIF87a") || starts_with(bytes, 0, "GIF89a")) return ImageFormat::kGif;
  return ImageFormat::kUnknown;
}

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WebP";
    case ImageFormat::kGif:
      return "GIF";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

Result<Image> decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  switch (sniff_image_format(bytes)) {
    case ImageFormat::kJpeg:
      return detail::decode_jpeg(bytes, limits);
    case ImageFormat::kPng:
      return detail::decode_png(bytes, limits);
    case ImageFormat::kWebp:
      return detail::decode_webp(bytes, limits);
    case ImageFormat::kGif:
      return detail::decode_gif(bytes, limits);
    case ImageFormat::kUnknown:
      break;
  }
  return Status::error("image", "unsupported image format (not JPEG, PNG, WebP or GIF)");
}

namespace detail {

Status corrupt(const char* format, const std::string& what) {
  return Status::error("image", std::string("corrupt or truncated ") + format + ": " + what);
}

Status check_size(int64_t width, int64_t height, const DecodeLimits& limits) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0)
    return Status::error("image", "image has no pixels (" + size + ")");
  if (width > limits.max_side || height > limits.max_side) {
    return Status::error("image", "image is " + size + " pixels, over the limit of " +
                                      std::to_string(limits.max_side) + " pixels a side");
  }
  if (width * height > limits.max_pixels) {
    return Status::error("image", "image is " + size + " pixels, over the limit of " +
                                      std::to_string(limits.max_pixels) + " pixels");
  }
  return Status::ok();
}

}  // namespace detail
}  // namespace sluice::media
