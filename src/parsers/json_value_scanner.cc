#include "parsers/json_value_scanner.h"

#include <cctype>

namespace sluice::parsers {

void JsonValueScanner::reset() {
  *this = JsonValueScanner();
}

JsonValueScanner::Step JsonValueScanner::push(char c) {
  if (kind_ == Kind::kNone) {
    first_ = c;
    if (c == '{' || c == '[') {
      kind_ = Kind::kContainer;
      open_.push_back(c);
      return Step::kInside;
    }
    if (c == '"') {
      kind_ = Kind::kString;
      in_string_ = true;
      return Step::kInside;
    }
    if (c == '-' || std::isalnum(static_cast<unsigned char>(c))) {
      kind_ = Kind::kScalar;
      return Step::kInside;
    }
    return Step::kError;
  }
  if (in_string_) {
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
      if (kind_ == Kind::kString) return Step::kEnded;
    }
    return Step::kInside;
  }
  if (kind_ == Kind::kScalar) {
    bool part = c == '-' || c == '+' || c == '.' || std::isalnum(static_cast<unsigned char>(c));
    return part ? Step::kInside : Step::kEndedBefore;
  }
  switch (c) {  // inside a container, outside strings
    case '"':
      in_string_ = true;
      return Step::kInside;
    case '{':
    case '[':
      open_.push_back(c);
      return Step::kInside;
    case '}':
    case ']':
      if (open_.back() != (c == '}' ? '{' : '[')) return Step::kError;
      open_.pop_back();
      return open_.empty() ? Step::kEnded : Step::kInside;
    default:
      return Step::kInside;
  }
}

}  // namespace sluice::parsers
