#pragma once
// Inline images: `data:[<media type>][;params];base64,<data>` URLs and Anthropic's base64 image
// sources, decoded through one base64 decoder under one size cap.
#include <optional>
#include <string_view>

#include "api/media/media_fetch_error.h"

namespace sluice::api {

// The base64 text of a data URL with a well-formed base64 header; nothing otherwise (and
// decode_data_url says why).
std::optional<std::string_view> data_url_base64(std::string_view url);

// The bytes of a base64 data URL (the media type is not checked: the image decoder sniffs).
MediaFetchResult decode_data_url(std::string_view url, size_t max_bytes);

// The bytes of base64 text (ASCII whitespace is skipped); `source` names it in error messages,
// e.g. "the base64 image source".
MediaFetchResult decode_base64_media(std::string_view data, size_t max_bytes,
                                     std::string_view source);

}  // namespace sluice::api
