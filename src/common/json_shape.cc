#include "common/json_shape.h"

#include <vector>

namespace sluice {

std::optional<std::string> json_shape_error(std::string_view text, JsonShapeLimits limits) {
  struct Open {
    bool object;
    int64_t commas;
  };
  std::vector<Open> open;  // the containers enclosing the current position
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (static_cast<int>(open.size()) >= limits.max_depth)
          return "JSON nested more than " + std::to_string(limits.max_depth) + " levels deep";
        open.push_back({c == '{', 0});
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
