#pragma once
// Reads one call object `{"name": "...", "arguments": {...}}` as it streams in and emits its
// events: begin as soon as the name is complete, the arguments text (whitespace-trimmed, exactly
// as generated) as it arrives, end at the closing brace. Keys may come in any order ("arguments"
// before "name" is held until the name arrives); "parameters" is accepted for "arguments".
// Before the name is known only the keys name/arguments/parameters/type/id are allowed, so plain
// JSON content (`{"answer": 1}`) is recognized early as not a call. Arguments given as a JSON
// string ("{\"a\": 1}") are decoded; missing or null arguments become "{}".
#include <string>
#include <string_view>

#include "parsers/event_sink.h"
#include "parsers/json_value_scanner.h"

namespace sluice::parsers {

class CallObjectReader {
 public:
  enum class State { kReading, kDone, kFailed };

  void start(int index);
  // Consumes bytes of text from pos and returns where it stopped: at the end of text (kReading),
  // just after the closing brace (kDone), or where the bytes stopped being a call object. Once the
  // call began (committed) a syntax error ends the call there (kDone); before that it is kFailed
  // and every byte consumed since start() is the caller's to give back as content.
  size_t read(std::string_view text, size_t pos, EventSink& sink);
  // End of output inside the object: a committed call ends with the arguments received so far.
  void finish(EventSink& sink);

  State state() const { return state_; }
  bool committed() const { return committed_; }
  int index() const { return index_; }

 private:
  enum class Phase { kOpen, kKeyStart, kKey, kColon, kValueStart, kValue, kAfterValue };
  enum class ValueRole { kName, kArgs, kSkip };

  bool on_key_end();
  void on_value_start(char c, EventSink& sink);
  void on_value_byte(char c, EventSink& sink);
  bool on_value_end(EventSink& sink);
  void emit_args(std::string_view text, EventSink& sink);
  void end_call(EventSink& sink);

  State state_ = State::kReading;
  Phase phase_ = Phase::kOpen;
  ValueRole role_ = ValueRole::kSkip;
  int index_ = 0;
  bool committed_ = false;
  bool have_name_ = false;
  bool have_args_ = false;
  bool args_streamed_ = false;  // the arguments value is an object streamed as it arrives
  bool key_escaped_ = false;
  std::string key_;        // raw key text, quotes included
  std::string value_;      // raw text of a name or buffered arguments value
  std::string held_args_;  // arguments that arrived before the name
  JsonValueScanner scanner_;
};

}  // namespace sluice::parsers
