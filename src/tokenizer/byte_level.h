#pragma once
// GPT-2 byte-level alphabet: every byte maps to a printable code point ("Ġ" for space), so BPE
// vocabularies can hold arbitrary bytes as text.
#include <string>
#include <string_view>

namespace sluice::byte_level {

// UTF-8 text of the code point standing for byte b.
const std::string& encode_byte(uint8_t b);
// Maps every byte of raw to its byte-level character.
std::string encode(std::string_view raw);
// Maps byte-level characters back to bytes; characters outside the alphabet pass through as UTF-8.
std::string decode(std::string_view text);

}  // namespace sluice::byte_level
