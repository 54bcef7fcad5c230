#pragma once
// The identity of a picture for the caches: the first 128 bits of SHA-256 over its width, height
// and RGB bytes, so the same pixels hash the same whatever file they came in, and different
// pixels (or the same bytes in another shape) do not -- not even pixels crafted to collide, as
// they could be against a non-cryptographic hash: the hash decides which KV a request reuses.
#include <cstdint>
#include <span>
#include <string>

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

}  // namespace sluice::media
