#pragma once
// UTF-8 helpers with Python's str semantics: code point indexing, str.isspace, case mapping
// (ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic), and repr's printable test.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::jinja {

bool is_ascii(std::string_view s);
// Decodes UTF-8; invalid bytes decode as themselves (U+0080..U+00FF range is not used for them:
// they become 0xDC80 + byte, Python's surrogateescape, and encode back unchanged).
std::u32string utf8_decode(std::string_view s);
void utf8_append(char32_t c, std::string& out);
std::string utf8_encode(const std::u32string& s);
size_t utf8_length(std::string_view s);  // code points

bool py_isspace(char32_t c);
bool py_isprintable(char32_t c);
bool py_isalpha(char32_t c);
bool py_isdigit(char32_t c);
bool py_isupper(char32_t c);
bool py_islower(char32_t c);
char32_t py_toupper(char32_t c);
char32_t py_tolower(char32_t c);

std::string str_upper(std::string_view s);
std::string str_lower(std::string_view s);

}  // namespace sluice::jinja
