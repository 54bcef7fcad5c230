#pragma once
// Collects the events of one feed(): merges consecutive deltas of one kind (and call) and holds
// back an incomplete UTF-8 character at the end of the last delta until its other bytes arrive.
#include <string_view>
#include <vector>

#include "parsers/tool_parser.h"

namespace sluice::parsers {

class EventSink {
 public:
  void content(std::string_view text);
  void reasoning(std::string_view text);
  void begin(int index, std::string_view name);
  void arguments(int index, std::string_view text);
  void end(int index);
  // Moves the events to out; unless final, a trailing partial UTF-8 character stays behind.
  void drain(std::vector<ParseEvent>& out, bool final);

 private:
  void append_delta(ParseEvent::Kind kind, int index, std::string_view text);
  std::vector<ParseEvent> events_;
};

}  // namespace sluice::parsers
