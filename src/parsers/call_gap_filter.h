#pragma once
// Content around tool calls: whitespace right before a call, between calls, or after the last
// call at the end of output is dropped; whitespace between a call and later text is kept (it
// separates that text from the text before the call). Trailing whitespace is held until the next
// non-space byte, a call or the end decides.
#include <string>
#include <string_view>

#include "parsers/event_sink.h"

namespace sluice::parsers {

class CallGapFilter {
 public:
  void text(std::string_view s, EventSink& sink);
  void call_starts() { held_space_.clear(); }
  void call_ended() {
    held_space_.clear();
    after_call_ = true;
  }
  // End of output: held whitespace is content unless it follows a call.
  void finish(EventSink& sink);

 private:
  std::string held_space_;
  bool after_call_ = false;
};

}  // namespace sluice::parsers
