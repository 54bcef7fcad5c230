#pragma once
// GET an image over http(s), following redirects by hand so that every hop passes the same
// checks: the URL parses, its host resolves only to allowed addresses, the connection goes to an
// address that was checked, and the whole fetch stays under the size cap and the deadline.
#include <string_view>

#include "api/media/media_fetch_error.h"
#include "api/media/media_fetch_options.h"

namespace sluice::api {

MediaFetchResult fetch_http(std::string_view url, const MediaFetchOptions& options);

}  // namespace sluice::api
