#pragma once
// The typed outcome of fetching one image: its bytes, or an error kind and a message naming the
// (shortened) URL. Every kind is the client's fault, so every kind becomes a 400.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/api_error.h"

namespace sluice::api {

using MediaBytes = std::vector<uint8_t>;

enum class MediaFetchErrorKind {
  kBadUrl,            // unparsable, or a scheme other than http, https, data, file
  kBadData,           // a data URL or base64 source that is not valid base64
  kTooLarge,          // over MediaFetchOptions::max_bytes
  kBlockedAddress,    // the host resolves to a private/loopback/... address not allow-listed
  kFileNotAllowed,    // file:// without --media-path, or outside it
  kFileUnreadable,    // a missing or unreadable file under --media-path
  kTimeout,           // over MediaFetchOptions::timeout_s
  kTooManyRedirects,  // over MediaFetchOptions::max_redirects
  kHttpStatus,        // a non-2xx final answer
  kNetwork,           // DNS failure, connection refused, TLS failure, broken reply
};

struct MediaFetchError {
  MediaFetchErrorKind kind;
  std::string message;  // "fetching https://x/y.png: HTTP 404"
};

class MediaFetchResult {
 public:
  MediaFetchResult(MediaBytes bytes) : value_(std::move(bytes)) {}       // NOLINT: implicit
  MediaFetchResult(MediaFetchError error) : value_(std::move(error)) {}  // NOLINT: implicit
  bool ok() const { return std::holds_alternative<MediaBytes>(value_); }
  explicit operator bool() const { return ok(); }
  MediaBytes& bytes() { return std::get<MediaBytes>(value_); }
  const MediaBytes& bytes() const { return std::get<MediaBytes>(value_); }
  const MediaFetchError& error() const { return std::get<MediaFetchError>(value_); }

 private:
  std::variant<MediaBytes, MediaFetchError> value_;
};

// The URL as error messages show it: at most `max_chars`, an ellipsis marking the cut.
std::string url_for_message(std::string_view url, size_t max_chars = 120);

// "fetching <url>: <what>" of `kind`, the URL shortened to `max_url_chars`.
MediaFetchError fetch_error(MediaFetchErrorKind kind, std::string_view url, std::string_view what,
                            size_t max_url_chars = 120);

// The 400 a request gets for an image it names that cannot be fetched; `param` names the field
// ("messages[1].content[0].image_url").
ApiError media_api_error(const MediaFetchError& e, const std::string& param = "");

}  // namespace sluice::api
