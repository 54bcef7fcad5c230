#pragma once
// The identity of a picture for the caches: XXH3-128 of its width, height and RGB bytes, so the
// same pixels hash the same whatever file they came in, and different pixels (or the same bytes
// in another shape) do not.
#include <cstdint>
#include <string>

#include "media/image.h"

namespace sluice::media {

struct ContentHash {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const ContentHash&) const = default;
  std::string hex() const;  // 32 lowercase hex digits, high word first
};

ContentHash content_hash(const Image& image);

}  // namespace sluice::media
