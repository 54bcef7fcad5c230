#pragma once
// One decoder per format behind decode_image(); each checks the header's size against the
// limits before it allocates pixels. Internal to media/.
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "media/decode.h"
#include "media/image.h"

namespace sluice::media::detail {

// "[image] corrupt or truncated <FORMAT>: <what>"
Status corrupt(const char* format, const std::string& what);
// Ok when width x height is positive and within `limits`.
Status check_size(int64_t width, int64_t height, const DecodeLimits& limits);

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Result<Image> decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Result<Image> decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits);
Result<Image> decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits);

}  // namespace sluice::media::detail
