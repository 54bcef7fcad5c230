#pragma once
// Absolute http(s) URLs as the media fetcher needs them: scheme, host, port and request target,
// checked strictly (no credentials, no control characters), and redirect targets made absolute.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::api {

struct HttpUrl {
  bool https = false;
  std::string host;    // lower-case; an IPv6 literal without its brackets
  int port = 0;        // the scheme's default when the URL names none
  std::string target;  // path and query: "/" at least, no dot segments, spaces and non-ASCII
                       // percent-encoded

  // "https://host:port" (the port only when not the default; IPv6 in brackets)
  std::string origin() const;
};

// The parts of an absolute http:// or https:// URL, or nothing with the reason in `error`.
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error);

// The absolute URL a redirect's Location names, read relative to `base` (RFC 3986 section 5.2;
// parse_http_url removes the dot segments).
std::string resolve_location(const HttpUrl& base, std::string_view location);

}  // namespace sluice::api
