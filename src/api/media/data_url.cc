#include "api/media/data_url.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/base64.h"

namespace sluice::api {

namespace {

constexpr size_t kDataUrlChars = 48;  // of a data URL in messages: enough to show its header

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The bytes of base64 `text`, or an error whose message is only the reason ("not valid base64").
MediaFetchResult decode(std::string_view text, size_t max_bytes) {
  std::string compact;  // only when the text has line breaks or spaces
  if (std::any_of(text.begin(), text.end(), is_space)) {
    compact.reserve(text.size());
    for (char c : text)
      if (!is_space(c)) compact += c;
    text = compact;
  }
  const std::string over = "the image is over the " + std::to_string(max_bytes) + "-byte limit";
  // Padded base64 is 4 characters per 3 bytes, the last group 1-3 bytes: refuse before decoding.
  if (text.size() / 4 * 3 > max_bytes + 2)
    return MediaFetchError{MediaFetchErrorKind::kTooLarge, over};
  if (text.empty()) return MediaFetchError{MediaFetchErrorKind::kBadData, "no image data"};
  std::optional<std::string> bytes = base64::decode(text);
  if (!bytes)
    return MediaFetchError{MediaFetchErrorKind::kBadData, "the image data is not valid base64"};
  if (bytes->size() > max_bytes) return MediaFetchError{MediaFetchErrorKind::kTooLarge, over};
  return MediaBytes(bytes->begin(), bytes->end());
}

}  // namespace

namespace {

// A data URL split at its comma: the base64 text, or why the URL is not one sluice takes.
struct DataUrlParts {
  std::string_view base64;
  const char* refused = nullptr;
};

DataUrlParts split_data_url(std::string_view url) {
  if (url.size() < 5 || !iequals(url.substr(0, 5), "data:")) return {{}, "not a data URL"};
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) return {{}, "a data URL needs a ',' before its data"};
  // "image/png;base64": the last parameter must say base64 (percent-encoded data is not taken).
  const std::string_view header = url.substr(5, comma - 5);
  const size_t semicolon = header.rfind(';');
  if (semicolon == std::string_view::npos || !iequals(header.substr(semicolon + 1), "base64"))
    return {{}, "only base64 data URLs are supported (data:<type>;base64,<data>)"};
  return {url.substr(comma + 1)};
}

}  // namespace

std::optional<std::string_view> data_url_base64(std::string_view url) {
  const DataUrlParts parts = split_data_url(url);
  if (parts.refused) return std::nullopt;
  return parts.base64;
}

MediaFetchResult decode_data_url(std::string_view url, size_t max_bytes) {
  const DataUrlParts parts = split_data_url(url);
  if (parts.refused)
    return fetch_error(MediaFetchErrorKind::kBadUrl, url, parts.refused, kDataUrlChars);
  MediaFetchResult r = decode(parts.base64, max_bytes);
  if (r.ok()) return r;
  return fetch_error(r.error().kind, url, r.error().message, kDataUrlChars);
}

MediaFetchResult decode_base64_media(std::string_view data, size_t max_bytes,
                                     std::string_view source) {
  MediaFetchResult r = decode(data, max_bytes);
  if (r.ok()) return r;
  return MediaFetchError{r.error().kind, std::string(source) + ": " + r.error().message};
}

}  // namespace sluice::api
