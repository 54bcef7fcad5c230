#pragma once
// The one entry point for images a request names by URL (OpenAI `image_url.url`, Anthropic's
// `source.url`): data:, http:, https:, or file: under --media-path. Any failure is typed and
// names the URL; media_api_error() turns it into the request's 400.
#include <string_view>

#include "api/media/media_fetch_error.h"
#include "api/media/media_fetch_options.h"

namespace sluice::api {

MediaFetchResult fetch_media(std::string_view url, const MediaFetchOptions& options);

}  // namespace sluice::api
