#include "parsers/buffered_tool_parser.h"

namespace sluice::parsers {

void BufferedToolParser::feed(std::string_view text, std::vector<ParseEvent>& out) {
  buf_.append(text);
  pos_ = 0;
  run();
  buf_.erase(0, pos_);
  pos_ = 0;
  sink_.drain(out, /*final=*/false);
}

void BufferedToolParser::finish(std::vector<ParseEvent>& out) {
  pos_ = 0;
  run();
  at_end();
  buf_.clear();
  pos_ = 0;
  gap_.finish(sink_);
  sink_.drain(out, /*final=*/true);
}

MarkerHit BufferedToolParser::pass_to_marker(Markers markers, Before before) {
  std::string_view text = rest();
  MarkerHit hit = find_marker(text, markers);
  if (!hit.found()) {
    size_t hold = partial_marker_len(text, markers);
    if (before == Before::kContent) gap_.text(text.substr(0, text.size() - hold), sink_);
    pos_ = buf_.size() - hold;
    return hit;
  }
  if (before == Before::kContent) gap_.text(text.substr(0, hit.pos), sink_);
  pos_ += hit.pos + markers[hit.which].size();
  return hit;
}

void BufferedToolParser::give_back_raw(std::string_view more) {
  raw_.append(more);
  gap_.text(raw_, sink_);
  raw_.clear();
}

size_t GuardedCallReader::read(std::string_view buf, size_t pos, EventSink& sink,
                               CallGapFilter& gap) {
  bool was_committed = reader_.committed();
  size_t stop = reader_.read(buf, pos, sink);
  if (!was_committed) raw_.append(buf.substr(pos, stop - pos));
  if (!was_committed && reader_.committed()) {
    gap.call_starts();
    raw_.clear();
  }
  if (reader_.state() == CallObjectReader::State::kDone) gap.call_ended();
  return stop;
}

void GuardedCallReader::finish(EventSink& sink, CallGapFilter& gap) {
  reader_.finish(sink);
  if (reader_.state() == CallObjectReader::State::kFailed) {
    gap.text(raw_, sink);
    raw_.clear();
  } else {
    gap.call_ended();
  }
}

}  // namespace sluice::parsers
