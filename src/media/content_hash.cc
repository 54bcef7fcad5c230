#include "media/content_hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <initializer_list>
#include <memory>

namespace sluice::media {

std::string ContentHash::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buf;
}

namespace {

// The first 128 bits of SHA-256 over the parts, as two big-endian words.
ContentHash digest(std::initializer_list<std::span<const uint8_t>> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const auto& p : parts) EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  ContentHash h;
  for (int i = 0; i < 8; ++i) {
    h.high = (h.high << 8) | out[i];
    h.low = (h.low << 8) | out[8 + i];
  }
  return h;
}

}  // namespace

ContentHash content_hash(const Image& image) {
  // The size as two little-endian uint32s, then the pixels.
  uint8_t size[8];
  for (int i = 0; i < 4; ++i) {
    size[i] = static_cast<uint8_t>(static_cast<uint32_t>(image.width) >> (8 * i));
    size[4 + i] = static_cast<uint8_t>(static_cast<uint32_t>(image.height) >> (8 * i));
  }
  return digest({std::span<const uint8_t>(size), std::span<const uint8_t>(image.rgb)});
}

ContentHash bytes_hash(std::span<const uint8_t> bytes) {
  return digest({bytes});
}

ContentHash tagged_hash(std::string_view tag, std::span<const uint8_t> bytes) {
  return digest({std::span(reinterpret_cast<const uint8_t*>(tag.data()), tag.size()), bytes});
}

}  // namespace sluice::media
