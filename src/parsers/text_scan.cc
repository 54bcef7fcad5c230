#include "parsers/text_scan.h"

#include <algorithm>

namespace sluice::parsers {

MarkerHit find_marker(std::string_view text, Markers markers) {
  MarkerHit best;
  for (size_t i = 0; i < markers.size(); ++i) {
    size_t pos = text.find(markers[i]);
    if (pos == std::string_view::npos) continue;
    if (!best.found() || pos < best.pos ||
        (pos == best.pos && markers[i].size() > markers[best.which].size())) {
      best = {pos, i};
    }
  }
  return best;
}

bool is_prefix_of(std::string_view text, std::string_view marker) {
  return text.size() <= marker.size() && marker.substr(0, text.size()) == text;
}

size_t partial_marker_len(std::string_view text, Markers markers) {
  size_t longest = 0;
  for (std::string_view m : markers) {
    size_t max_len = std::min(text.size(), m.size() - 1);
    for (size_t len = max_len; len > longest; --len) {
      if (text.substr(text.size() - len) == m.substr(0, len)) {
        longest = len;
        break;
      }
    }
  }
  return longest;
}

Lookahead starts_with_token(std::string_view text, std::string_view token) {
  if (text.starts_with(token)) return Lookahead::kYes;
  return is_prefix_of(text, token) ? Lookahead::kNeedMore : Lookahead::kNo;
}

size_t skip_json_space(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_json_space(text[i])) ++i;
  return i;
}

size_t incomplete_utf8_tail(std::string_view text) {
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  size_t n = text.size();
  for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
    unsigned char c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;  // only continuation bytes: invalid text, nothing to wait for
}

bool is_json_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(s, out);
  out += '"';
  return out;
}

}  // namespace sluice::parsers
