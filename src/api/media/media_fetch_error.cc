#include "api/media/media_fetch_error.h"

namespace sluice::api {

std::string url_for_message(std::string_view url, size_t max_chars) {
  std::string out;
  for (char c : url.substr(0, max_chars)) {  // control bytes would garble a log line
    const auto b = static_cast<unsigned char>(c);
    out += b < 0x20 || b == 0x7f ? '?' : c;
  }
  if (url.size() > max_chars) out += "...";
  return out;
}

MediaFetchError fetch_error(MediaFetchErrorKind kind, std::string_view url, std::string_view what,
                            size_t max_url_chars) {
  return {kind, "fetching " + url_for_message(url, max_url_chars) + ": " + std::string(what)};
}

ApiError media_api_error(const MediaFetchError& e, const std::string& param) {
  return invalid(e.message, param);
}

}  // namespace sluice::api
