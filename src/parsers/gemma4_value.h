#pragma once
// Gemma 4's argument syntax -> JSON, streaming. Its template writes values as
//   {key:value,...}   [a,b]   <|"|>raw text<|"|>   1   -2.5   true   false
// keys bare (or <|"|>-quoted), string text unescaped between <|"|> marks, numbers and booleans as
// in JSON; None / True / False (Python's spelling) and null are read too, and a bare word that is
// none of these is a string. Whitespace outside strings is ignored. JSON is written as the input
// decides it: structure and string text at once, a bare word when its delimiter arrives.
#include <string>
#include <string_view>
#include <vector>

namespace sluice::parsers {

inline constexpr std::string_view kGemmaQuote = "<|\"|>";

class Gemma4ValueConverter {
 public:
  enum class State { kReading, kDone, kFailed };
  // Converts a prefix of text (one value, then it stops); returns the bytes consumed. Bytes that
  // may begin a <|"|> mark inside a string are not consumed: pass them again with more.
  size_t feed(std::string_view text, std::string& json);
  // End of input; `tail` is what feed() left unconsumed. A pending bare word is written; the
  // JSON stays incomplete when the value was cut.
  void finish(std::string_view tail, std::string& json);
  State state() const { return state_; }

 private:
  enum class Expect { kValue, kFirstItem, kFirstKey, kKey, kColon, kCommaOrClose };
  bool step(char c, std::string& json);  // false: the value is malformed
  void close_container(std::string& json);
  void end_word(std::string& json);

  State state_ = State::kReading;
  Expect expect_ = Expect::kValue;
  std::vector<char> stack_;  // open '{' and '['
  bool in_string_ = false;   // between <|"|> marks
  bool string_is_key_ = false;
  bool in_word_ = false;  // a bare key or scalar
  std::string word_;
};

// A bare Gemma scalar as JSON: numbers, true/false/null (and True/False/None) as themselves,
// anything else as a JSON string.
std::string gemma4_scalar_json(std::string_view word);

}  // namespace sluice::parsers
