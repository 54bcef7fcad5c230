#pragma once
// Shared by the media tests: fixtures and Pillow's goldens under tests/data/media/, written by
// tests/reference/make_media_fixtures.py (golden.json lists them).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "media/decode.h"

namespace sluice::media::testing {

inline std::string media_dir() {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/data/media/";
}

inline std::vector<uint8_t> read_bytes(const std::string& relative) {
  std::ifstream f(media_dir() + relative, std::ios::binary);
  EXPECT_TRUE(f.good()) << "missing " << media_dir() + relative;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline const nlohmann::json& golden() {
  static const nlohmann::json j = [] {
    const std::vector<uint8_t> text = read_bytes("golden.json");
    return nlohmann::json::parse(text.begin(), text.end());
  }();
  return j;
}

inline std::string sha256_hex(const void* data, size_t n) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, n, digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static const char* kDigits = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

// A fixture decoded by sluice; fails the test on a decode error.
inline Image decode_fixture(const std::string& name) {
  const std::vector<uint8_t> bytes = read_bytes(name);
  Result<Image> r = decode_image(bytes);
  EXPECT_TRUE(r.ok()) << name << ": " << r.error();
  return r.ok() ? std::move(r.value()) : Image{};
}

}  // namespace sluice::media::testing
