#pragma once
// Reads a Python list of calls with keyword arguments, byte by byte (O(1) per byte):
//   [get_weather(city="Paris", days=3), get_time()]
// converting each call's arguments to a JSON object as it goes. Values must be literals:
// strings ('...', "...", triple-quoted; Python escapes), ints (also 0x/0o/0b, 1_000), floats,
// True/False/None, lists, tuples (-> arrays), dicts with string or number keys. Anything else (a
// name, an expression, a positional argument, a repeated keyword) fails the whole list.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::parsers {

class PythonCallListReader {
 public:
  enum class State { kReading, kDone, kFailed };
  struct Call {
    std::string name;
    std::string arguments;  // JSON, complete once the call's ')' was read
  };

  // space_before_list: whitespace may come before the '[' (after <|python_start|>).
  explicit PythonCallListReader(bool space_before_list = false);
  // Consumes a prefix of text; returns the bytes consumed. kDone: stopped right after the list's
  // ']'; kFailed: stopped at the byte that cannot continue a call list (not consumed).
  size_t feed(std::string_view text);
  // End of output: a pending number or name-like word is converted (the JSON stays incomplete).
  void finish();
  State state() const { return state_; }
  // The calls whose names are complete (name and '(' read); the last may be incomplete.
  const std::vector<Call>& calls() const { return calls_; }
  // Bytes fed before the name of a call not yet begun (where a cut list's tail starts).
  size_t pending_call_offset() const { return pending_call_offset_; }
  // Whether the list stopped inside a call's name (before its '(').
  bool in_call_name() const {
    return expect_ == Expect::kCallParen || (expect_ == Expect::kCallName && in_word_);
  }

 private:
  enum class Expect {
    kListOpen,    // '[' (whitespace first when allowed)
    kCallName,    // a call's name, or ']' after a trailing comma
    kCallParen,   // '(' after the name
    kKeyword,     // a keyword, or ')'
    kEquals,      // '=' after the keyword
    kValue,       // a value (after '=' or ':')
    kItem,        // a list or tuple item, or its close
    kAfterValue,  // ',' or the enclosing close
    kKey,         // a dict key, or '}'
    kColon,       // ':' after a dict key
    kAfterCall,   // ',' or ']'
  };
  enum class Frame : char { kCall = 'c', kList = '[', kTuple = '(', kDict = '{' };
  enum class StringPart { kNone, kOpening, kBody, kEscape, kCode };

  bool step(char c);  // false: the list is malformed at c
  bool string_byte(char c);
  bool escape_byte(char c);
  void end_string();
  bool end_word();
  void begin_item();  // writes the comma before a list or tuple item when one came before
  bool open(Frame frame);
  bool close(char c);
  void value_done();
  bool write_code_point(uint32_t cp);  // false: not a Unicode scalar value
  std::string& out() { return calls_.back().arguments; }

  State state_ = State::kReading;
  Expect expect_;
  bool space_before_list_;
  size_t fed_ = 0;
  size_t pending_call_offset_ = 0;
  std::vector<Call> calls_;
  std::vector<Frame> frames_;
  std::vector<bool> has_items_;  // per frame: an item was written (a comma precedes the next)
  std::set<std::string> keywords_;
  std::string word_;  // a name, keyword or scalar being read
  bool in_word_ = false;
  // strings
  StringPart string_ = StringPart::kNone;
  char quote_ = 0;
  int quotes_seen_ = 0;  // opening: quotes read; body of a triple-quoted one: closing quotes read
  bool triple_ = false;
  bool string_is_key_ = false;
  std::string text_;    // decoded bytes of the string
  char code_kind_ = 0;  // 'x', 'u', 'U' or 'o' while reading an escape's digits
  uint32_t code_ = 0;
  int code_digits_ = 0;
};

// A Python scalar word as JSON: True/False/None, ints (any base, underscores), floats; "" when
// the word is not a literal.
std::string python_scalar_json(std::string_view word);

}  // namespace sluice::parsers
