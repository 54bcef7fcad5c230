#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include "media/content_hash.h"

#include <xxhash.h>

#include <cstdio>

namespace sluice::media {

std::string ContentHash::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buf;
}

ContentHash content_hash(const Image& image) {
  // The size as two little-endian uint32s, then the pixels.
  uint8_t size[8];
  for (int i = 0; i < 4; ++i) {
    size[i] = static_cast<uint8_t>(static_cast<uint32_t>(image.width) >> (8 * i));
    size[4 + i] = static_cast<uint8_t>(static_cast<uint32_t>(image.height) >> (8 * i));
  }
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, size, sizeof(size));
  XXH3_128bits_update(&state, image.rgb.data(), image.rgb.size());
  const XXH128_hash_t h = XXH3_128bits_digest(&state);
  return {h.high64, h.low64};
}

}  // namespace sluice::media
