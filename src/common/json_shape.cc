#include "common/json_shape.h"

#include <cstring>
#include <vector>

namespace sluice {

namespace {

// The index of the quote that closes the string whose text starts at `from` (text.size() when
// none): memchr to each quote, which ends the string unless an odd run of backslashes precedes it.
size_t string_end(std::string_view text, size_t from) {
  while (from < text.size()) {
    const void* hit = std::memchr(text.data() + from, '"', text.size() - from);
    if (!hit) return text.size();
    const size_t quote = static_cast<const char*>(hit) - text.data();
    size_t slashes = 0;
    while (quote - slashes > from && text[quote - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return quote;
    from = quote + 1;
  }
  return text.size();
}

}  // namespace

std::optional<std::string> json_shape_error(std::string_view text, JsonShapeLimits limits) {
  struct Open {
    bool object;
    int64_t commas;
  };
  std::vector<Open> open;  // the containers enclosing the current position
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '"':
        i = string_end(text, i + 1);
        break;
      case '{':
      case '[':
        if (static_cast<int>(open.size()) >= limits.max_depth)
          return "JSON nested more than " + std::to_string(limits.max_depth) + " levels deep";
        open.push_back({text[i] == '{', 0});
        break;
      case '}':
      case ']':
        if (!open.empty()) open.pop_back();
        break;
      case ',':
        if (!open.empty() && open.back().object && ++open.back().commas >= limits.max_members)
          return "a JSON object has more than " + std::to_string(limits.max_members) + " members";
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace sluice
