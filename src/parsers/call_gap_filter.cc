#include "parsers/call_gap_filter.h"

#include "parsers/text_scan.h"

namespace sluice::parsers {

void CallGapFilter::text(std::string_view s, EventSink& sink) {
  size_t last_text = s.size();  // index of the last non-space byte
  while (last_text > 0 && is_json_space(s[last_text - 1])) --last_text;
  if (last_text == 0) {  // only whitespace: its role is not known yet
    held_space_.append(s);
    return;
  }
  after_call_ = false;
  sink.content(held_space_);
  held_space_.clear();
  sink.content(s.substr(0, last_text));
  held_space_.append(s.substr(last_text));
}

void CallGapFilter::finish(EventSink& sink) {
  if (!after_call_) sink.content(held_space_);
  held_space_.clear();
}

}  // namespace sluice::parsers
