#include "tokenizer/utf8.h"

#include "common/utf8_append.h"

namespace sluice::utf8 {
namespace {
constexpr uint32_t kReplacement = 0xFFFD;

// Length of the valid sequence at s[pos], or 0 if invalid (truncated counts as invalid).
size_t valid_len(std::string_view s, size_t pos, uint32_t* cp_out) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  size_t n = seq_len(b0);
  if (b0 < 0x80) {
    *cp_out = b0;
    return 1;
  }
  if (n == 1 || pos + n > s.size()) return 0;
  uint32_t cp = b0 & (0xFF >> (n + 1));
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *cp_out = cp;
  return n;
}
}  // namespace

uint32_t decode(std::string_view s, size_t* pos) {
  uint32_t cp = 0;
  const size_t n = valid_len(s, *pos, &cp);
  if (n == 0) {
    *pos += 1;
    return kReplacement;
  }
  *pos += n;
  return cp;
}

void append(std::string* out, uint32_t cp) {
  utf8_append(*out, cp);
}

size_t complete_prefix(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence is not finished yet.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = seq_len(b);
    if (need > back && need > 1) {
      // Incomplete only if the bytes so far are valid continuations.
      for (size_t i = 1; i < back; ++i) {
        if ((static_cast<uint8_t>(s[n - back + i]) & 0xC0) != 0x80) return n;
      }
      return n - back;
    }
    return n;
  }
  return n;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp = 0;
    const size_t n = valid_len(s, pos, &cp);
    if (n == 0) {
      append(&out, kReplacement);
      pos += 1;
    } else {
      out.append(s.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

}  // namespace sluice::utf8
