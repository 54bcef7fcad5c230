#pragma once
// UTF-8 helpers shared by the tokenizer: decoding code points, completeness checks, repair.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::utf8 {

// Length of the sequence announced by a lead byte (1 for invalid/continuation bytes).
inline size_t seq_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes one code point at s[*pos] and advances *pos. Invalid bytes yield U+FFFD and advance 1.
uint32_t decode(std::string_view s, size_t* pos);
void append(std::string* out, uint32_t cp);
// Length of the longest prefix of s that does not end inside an incomplete (but so far valid)
// multi-byte sequence; bytes after it may complete with more input.
size_t complete_prefix(std::string_view s);
// Replaces every invalid byte sequence with U+FFFD.
std::string sanitize(std::string_view s);

}  // namespace sluice::utf8
