#pragma once
// Follows one JSON value byte by byte to find where it ends. It checks nesting and strings, not
// the full grammar: enough to stream a value's bytes and know when it is complete.
#include <string>

namespace sluice::parsers {

class JsonValueScanner {
 public:
  enum class Step {
    kInside,       // the byte belongs to the value, which goes on
    kEnded,        // the byte was the value's last
    kEndedBefore,  // a number or literal ended just before this byte (not part of it)
    kError,        // the byte cannot be part of a JSON value here
  };
  Step push(char c);
  void reset();
  bool started() const { return kind_ != Kind::kNone; }
  char first() const { return first_; }  // the value's first byte

 private:
  enum class Kind { kNone, kString, kContainer, kScalar };
  Kind kind_ = Kind::kNone;
  char first_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  std::string open_;  // '{' / '[' of the open containers
};

}  // namespace sluice::parsers
