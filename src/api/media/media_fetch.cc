#include "api/media/media_fetch.h"

#include <cctype>
#include <string>

#include "api/media/data_url.h"
#include "api/media/file_fetch.h"
#include "api/media/http_fetch.h"

namespace sluice::api {

MediaFetchResult fetch_media(std::string_view url, const MediaFetchOptions& options) {
  const size_t colon = url.find(':');
  std::string scheme(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "data") return decode_data_url(url, options.max_bytes);
  if (scheme == "http" || scheme == "https") return fetch_http(url, options);
  if (scheme == "file") return fetch_file(url, options);
  if (scheme.empty())
    return fetch_error(MediaFetchErrorKind::kBadUrl, url,
                       "not a URL (expected http, https, data or file)");
  return fetch_error(MediaFetchErrorKind::kBadUrl, url,
                     "unsupported URL scheme '" + url_for_message(scheme, 16) +
                         "' (expected http, https, data or file)");
}

}  // namespace sluice::api
