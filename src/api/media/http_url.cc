#include "api/media/http_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace sluice::api {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) before the first ':'.
std::optional<std::string> scheme_of(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  if (!std::isalpha(static_cast<unsigned char>(url[0]))) return std::nullopt;
  for (char c : url.substr(0, colon))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return std::nullopt;
  return lower(url.substr(0, colon));
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// RFC 3986 section 5.2.4 on a path that starts with '/': "/a/./b/../c" -> "/a/c".
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool ends_in_slash = false;
  for (size_t start = 1;;) {
    const size_t end = path.find('/', start);
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == std::string_view::npos;
    ends_in_slash = last && (segment == "." || segment == "..");
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (last) break;
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : kept) {
    out += '/';
    out += segment;
  }
  if (ends_in_slash || out.empty()) out += '/';
  return out;
}

// Path and query with the fragment dropped, dot segments removed, spaces and non-ASCII bytes
// percent-encoded.
std::optional<std::string> clean_target(std::string_view rest, std::string* error) {
  rest = rest.substr(0, rest.find('#'));
  const size_t query = std::min(rest.find('?'), rest.size());
  std::string target = remove_dot_segments(query == 0 ? "/" : rest.substr(0, query));
  target += rest.substr(query);
  std::string out;
  for (char c : target) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      *error = "the URL holds a control character";
      return std::nullopt;
    }
    if (b == ' ' || b >= 0x80) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string HttpUrl::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = https ? "https://" : "http://";
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (port != (https ? 443 : 80)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error) {
  const std::optional<std::string> scheme = scheme_of(url);
  if (!scheme || (*scheme != "http" && *scheme != "https")) {
    *error = "not an http or https URL";
    return std::nullopt;
  }
  HttpUrl out;
  out.https = *scheme == "https";
  std::string_view rest = url.substr(scheme->size() + 1);
  if (rest.substr(0, 2) != "//") {
    *error = "the URL has no host (expected " + *scheme + "://host/...)";
    return std::nullopt;
  }
  rest.remove_prefix(2);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  rest.remove_prefix(authority.size());
  if (authority.find('@') != std::string_view::npos) {
    *error = "credentials in the URL are not allowed";
    return std::nullopt;
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "an IPv6 host without its closing ']'";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      *error = "unexpected text after the IPv6 host";
      return std::nullopt;
    }
    if (!after.empty()) port = after.substr(1);
    in6_addr probe;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &probe) != 1) {
      *error = "an invalid IPv6 host";
      return std::nullopt;
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      *error = "the host name has characters a host name cannot have";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    *error = "the URL has no host";
    return std::nullopt;
  }
  out.host = lower(host);
  out.port = out.https ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) ||
          (value = value * 10 + (c - '0')) > 65535) {
        *error = "an invalid port";
        return std::nullopt;
      }
    }
    if (value == 0) {
      *error = "an invalid port";
      return std::nullopt;
    }
    out.port = value;
  }
  std::optional<std::string> target = clean_target(rest, error);
  if (!target) return std::nullopt;
  out.target = std::move(*target);
  return out;
}

std::string resolve_location(const HttpUrl& base, std::string_view location) {
  if (scheme_of(location)) return std::string(location);  // absolute
  if (location.substr(0, 2) == "//")
    return (base.https ? "https:" : "http:") + std::string(location);
  if (!location.empty() && location[0] == '/') return base.origin() + std::string(location);
  const std::string_view path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (location.empty() || location[0] == '#') return base.origin() + base.target;
  if (location[0] == '?') return base.origin() + std::string(path) + std::string(location);
  // A relative path replaces the last segment of the base path.
  return base.origin() + std::string(path.substr(0, path.rfind('/') + 1)) + std::string(location);
}

}  // namespace sluice::api
