#include "parsers/event_sink.h"

#include "parsers/text_scan.h"

namespace sluice::parsers {

void EventSink::append_delta(ParseEvent::Kind kind, int index, std::string_view text) {
  if (text.empty()) return;
  if (!events_.empty() && events_.back().kind == kind && events_.back().index == index) {
    events_.back().text.append(text);
    return;
  }
  ParseEvent e{kind, index, std::string(text), {}};
  events_.push_back(std::move(e));
}

void EventSink::content(std::string_view text) {
  append_delta(ParseEvent::Kind::kContent, 0, text);
}

void EventSink::reasoning(std::string_view text) {
  append_delta(ParseEvent::Kind::kReasoning, 0, text);
}

void EventSink::arguments(int index, std::string_view text) {
  append_delta(ParseEvent::Kind::kToolArguments, index, text);
}

void EventSink::begin(int index, std::string_view name) {
  events_.push_back({ParseEvent::Kind::kToolCallBegin, index, {}, std::string(name)});
}

void EventSink::end(int index) {
  events_.push_back({ParseEvent::Kind::kToolCallEnd, index, {}, {}});
}

void EventSink::drain(std::vector<ParseEvent>& out, bool final) {
  ParseEvent kept;
  bool keep = false;
  if (!final && !events_.empty()) {
    ParseEvent& last = events_.back();
    bool is_delta = last.kind == ParseEvent::Kind::kContent ||
                    last.kind == ParseEvent::Kind::kToolArguments ||
                    last.kind == ParseEvent::Kind::kReasoning;
    size_t tail = is_delta ? incomplete_utf8_tail(last.text) : 0;
    if (tail > 0) {
      kept = {last.kind, last.index, last.text.substr(last.text.size() - tail), {}};
      last.text.resize(last.text.size() - tail);
      if (last.text.empty()) events_.pop_back();
      keep = true;
    }
  }
  for (auto& e : events_) out.push_back(std::move(e));
  events_.clear();
  if (keep) events_.push_back(std::move(kept));
}

}  // namespace sluice::parsers
