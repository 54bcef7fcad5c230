#include "common/base64.h"

#include <openssl/evp.h>

#include <array>

namespace sluice::base64 {

namespace {

// The 64 letters of the alphabet (a table: isalnum per character was most of a decode).
constexpr std::array<bool, 256> kAlphabet = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['+'] = t['/'] = true;
  return t;
}();

}  // namespace

std::string encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  // The codec skips whitespace and reads '=' loosely: the alphabet and padding are checked here.
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  bool ok = true;
  for (size_t i = 0; i + pad < text.size(); ++i)
    ok &= kAlphabet[static_cast<unsigned char>(text[i])];
  if (!ok) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;  // padding counts as zero bytes there
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace sluice::base64
