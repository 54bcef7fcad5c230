#pragma once
// A check of untrusted JSON text before it is parsed: nesting deeper than `max_depth`, or an
// object with more than `max_members` members, is refused with a message. Deep values would
// overflow the stack in the recursive code that copies and walks them; nlohmann's ordered
// objects search their keys linearly, so a huge object parses in quadratic time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

struct JsonShapeLimits {
  int max_depth = 128;
  int64_t max_members = 10000;
};

// nullopt when `text` stays within `limits` (it may still be invalid JSON: the parser says so).
std::optional<std::string> json_shape_error(std::string_view text, JsonShapeLimits limits = {});

}  // namespace sluice
