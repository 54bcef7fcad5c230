#pragma once
// JSON string escaping (RFC 8259): quote, backslash and control characters escaped; every other
// byte, UTF-8 included, passes through. One implementation for the Jinja `tojson` and the parsers.
#include <string>
#include <string_view>

namespace sluice {

inline void append_json_escaped_byte(unsigned char c, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
  }
}

// Appends s escaped (without the surrounding quotes).
inline void append_json_escaped(std::string_view s, std::string& out) {
  for (char c : s) append_json_escaped_byte(static_cast<unsigned char>(c), out);
}

}  // namespace sluice
