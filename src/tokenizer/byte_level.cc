#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace sluice::byte_level {
namespace {

struct Tables {
  std::array<std::string, 256> byte_to_text;
  std::unordered_map<uint32_t, uint8_t> cp_to_byte;
  Tables() {
    // Printable Latin-1 bytes map to themselves; the rest to 256, 257, ... in byte order.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;
      utf8::append(&byte_to_text[b], cp);
      cp_to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::string& encode_byte(uint8_t b) {
  return tables().byte_to_text[b];
}

std::string encode(std::string_view raw) {
  const auto& t = tables();
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) out += t.byte_to_text[static_cast<uint8_t>(c)];
  return out;
}

std::string decode(std::string_view text) {
  const auto& t = tables();
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const uint32_t cp = utf8::decode(text, &pos);
    auto it = t.cp_to_byte.find(cp);
    if (it != t.cp_to_byte.end()) {
      out.push_back(static_cast<char>(it->second));
    } else {
      out.append(text.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace sluice::byte_level
