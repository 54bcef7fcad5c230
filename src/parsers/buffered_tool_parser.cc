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
