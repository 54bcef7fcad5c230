#pragma once
// Calls written between special-token markers, with JSON arguments (DeepSeek, Kimi K2):
//   text [section_open] call_open HEADER header_end ARGS call_close ... [section_close] text
// The format turns HEADER into the function name (call_name()). With name_line, a header that is
// not followed by JSON is a type ("function") and the name is the next line, arguments maybe in a
// ```json fence (DeepSeek V3 / R1). Arguments stream as generated; a JSON string is decoded.
// Bytes after the arguments up to call_close are dropped; a section or call that breaks before
// the name is known is content, markup included.
#include <optional>
#include <string>
#include <string_view>

#include "parsers/buffered_tool_parser.h"
#include "parsers/json_value_scanner.h"

namespace sluice::parsers {

struct CallMarkers {
  std::string_view section_open;  // empty: the format has no section around its calls
  std::string_view section_close;
  std::string_view call_open, header_end, call_close;
  bool name_line = false;  // HEADER may be a type, the name then on the line after header_end
};

class DelimitedCallParser : public BufferedToolParser {
 public:
  explicit DelimitedCallParser(CallMarkers markers) : m_(markers) {}

 protected:
  // The function name a header gives; nullopt: not a call (the block is content).
  virtual std::optional<std::string> call_name(std::string_view header) const = 0;

 private:
  enum class State {
    kText,
    kSection,
    kHeader,
    kAfterHeader,
    kNameLine,
    kFence,
    kArgs,
    kToClose,
    kBetween
  };

  void run() override;
  void at_end() override;
  bool step(std::string_view text);  // false: more bytes needed
  bool after_header(std::string_view text);
  bool read_name_line(std::string_view text);
  bool skip_fence(std::string_view text);
  void read_args(std::string_view text);
  bool between(std::string_view text);
  void start_call(std::string_view markup);
  void commit(const std::string& name);
  void end_call();
  void give_back_as_content(std::string_view more = {});

  CallMarkers m_;
  State state_ = State::kText;
  std::string header_;
  std::string name_;
  std::string string_args_;  // arguments given as a JSON string, decoded at their end
  bool args_seen_ = false;
  JsonValueScanner scanner_;
};

}  // namespace sluice::parsers
