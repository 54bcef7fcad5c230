#pragma once
// The identity of a picture for the caches: the first 128 bits of SHA-256 over its width, height
// and RGB bytes, so the same pixels hash the same whatever file they came in, and different
// pixels (or the same bytes in another shape) do not -- not even pixels crafted to collide, as
// they could be against a non-cryptographic hash: the hash decides which KV a request reuses.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "media/image.h"

namespace sluice::media {

struct ContentHash {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const ContentHash&) const = default;
  std::string hex() const;  // 32 lowercase hex digits: the digest's first 16 bytes
};

ContentHash content_hash(const Image& image);
// The same digest over raw bytes (an encoded file: the key of decodes already done).
ContentHash bytes_hash(std::span<const uint8_t> bytes);
// The digest of `tag` then the bytes: keys of another kind than a file's bytes (a data URL's
// text), which no file's digest can equal unless the file starts with the tag.
ContentHash tagged_hash(std::string_view tag, std::span<const uint8_t> bytes);

}  // namespace sluice::media
