#pragma once
// Text helpers shared by the streaming parsers: marker search with holdback of a possible partial
// marker, UTF-8 completeness, JSON whitespace and string escaping.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "common/json_escape.h"  // append_json_escaped

namespace sluice::parsers {

using Markers = std::span<const std::string_view>;

struct MarkerHit {
  size_t pos = std::string_view::npos;  // npos: no complete marker
  size_t which = 0;                     // index into the markers
  bool found() const { return pos != std::string_view::npos; }
};

// Earliest complete occurrence of any marker (at one position: the longest marker).
MarkerHit find_marker(std::string_view text, Markers markers);
// Length of the longest suffix of text that is a proper prefix of a marker: bytes to hold back
// until the next ones tell whether a marker starts there.
size_t partial_marker_len(std::string_view text, Markers markers);
// True when text is a (possibly complete) prefix of marker.
bool is_prefix_of(std::string_view text, std::string_view marker);

// Whether text starts with token: kNeedMore when text is a proper prefix of it.
enum class Lookahead { kYes, kNo, kNeedMore };
Lookahead starts_with_token(std::string_view text, std::string_view token);
// Index of the first non-whitespace byte (text.size() when there is none).
size_t skip_json_space(std::string_view text);

// Bytes at the end of text that begin a UTF-8 character whose other bytes have not arrived yet.
size_t incomplete_utf8_tail(std::string_view text);

bool is_json_space(char c);
std::string json_quote(std::string_view s);  // "s" with escapes

}  // namespace sluice::parsers
