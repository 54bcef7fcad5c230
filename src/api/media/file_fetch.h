#pragma once
// file:// image URLs: served only when --media-path names a directory, and only for regular
// files whose real path (symlinks and '..' resolved) lies inside it.
#include <string_view>

#include "api/media/media_fetch_error.h"
#include "api/media/media_fetch_options.h"

namespace sluice::api {

MediaFetchResult fetch_file(std::string_view url, const MediaFetchOptions& options);

}  // namespace sluice::api
