#include "api/media/file_fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <string>

namespace sluice::api {

namespace {

namespace fs = std::filesystem;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// The absolute path of file:///p or file://localhost/p, percent-decoded; nothing if malformed.
std::optional<std::string> path_of(std::string_view url) {
  std::string_view rest = url.substr(url.find(':') + 1);
  if (rest.substr(0, 2) != "//") return std::nullopt;
  rest.remove_prefix(2);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string host(rest.substr(0, slash));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!host.empty() && host != "localhost") return std::nullopt;
  rest = rest.substr(slash);
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      out += rest[i];
      continue;
    }
    const int hi = i + 2 < rest.size() ? hex_value(rest[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(rest[i + 2]) : -1;
    if (lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;  // a bad escape, or a NUL
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Whether `path` is `root` or lies below it, component by component (both canonical).
bool is_within(const fs::path& path, const fs::path& root) {
  return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

}  // namespace

MediaFetchResult fetch_file(std::string_view url, const MediaFetchOptions& options) {
  using Kind = MediaFetchErrorKind;
  if (options.media_path.empty())
    return fetch_error(Kind::kFileNotAllowed, url,
                       "file:// URLs are refused (the server has no --media-path)");
  const std::optional<std::string> path = path_of(url);
  if (!path) return fetch_error(Kind::kBadUrl, url, "expected file:///absolute/path");
  std::error_code ec;
  const fs::path root = fs::canonical(options.media_path, ec);
  if (ec) return fetch_error(Kind::kFileUnreadable, url, "--media-path is not readable");
  // Resolves the symlinks and '..' of the part that exists: a link out of the directory, or a
  // missing file outside it, reads as outside (no hint whether it exists).
  const fs::path real = fs::weakly_canonical(*path, ec);
  if (ec || !is_within(real, root))
    return fetch_error(Kind::kFileNotAllowed, url, "the file is outside --media-path");
  // O_NOFOLLOW: the last component must not have become a link since; O_NONBLOCK: a FIFO
  // must not hang the open.
  const int fd = ::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fetch_error(Kind::kFileUnreadable, url, "no such readable file");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
    return fetch_error(Kind::kFileUnreadable, url, "not a regular file");
  const std::string over =
      "the image is over the " + std::to_string(options.max_bytes) + "-byte limit";
  if (static_cast<uint64_t>(info.st_size) > options.max_bytes)
    return fetch_error(Kind::kTooLarge, url, over);
  MediaBytes bytes;
  bytes.reserve(static_cast<size_t>(info.st_size));
  uint8_t buffer[64 << 10];
  for (;;) {  // to the end, which may have moved since fstat
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) return fetch_error(Kind::kFileUnreadable, url, "read error");
    if (n == 0) break;
    if (static_cast<size_t>(n) > options.max_bytes - bytes.size())
      return fetch_error(Kind::kTooLarge, url, over);
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  return bytes;
}

}  // namespace sluice::api
