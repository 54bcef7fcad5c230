#pragma once
// Shared frame of the streaming tool parsers: input bytes are appended to one buffer, the format's
// run() consumes from pos_ as far as the bytes decide, and what is left (a possible partial tag)
// waits for the next feed. Events go through one EventSink, content through one CallGapFilter.
#include <string>
#include <string_view>
#include <vector>

#include "parsers/call_gap_filter.h"
#include "parsers/call_object_reader.h"
#include "parsers/event_sink.h"
#include "parsers/text_scan.h"
#include "parsers/tool_parser.h"

namespace sluice::parsers {

class BufferedToolParser : public ToolParser {
 public:
  void feed(std::string_view text, std::vector<ParseEvent>& out) final;
  void finish(std::vector<ParseEvent>& out) final;

 protected:
  virtual void run() = 0;     // consume rest() as far as it is decided
  virtual void at_end() = 0;  // end of output: flush what is held (rest() is what run() left)
  std::string_view rest() const { return std::string_view(buf_).substr(pos_); }

  // Steps past the first of markers in rest(); the bytes before it are content (kContent) or
  // dropped. No marker: all but a possible partial marker at the end is consumed, that is held.
  enum class Before { kContent, kDropped };
  MarkerHit pass_to_marker(Markers markers, Before before = Before::kContent);

  // Steps a call reader (GuardedCallReader, CallArrayReader) over rest(). kFailed: its bytes go
  // back as content; kDone: next_index_ moves past its calls.
  enum class CallStep { kReading, kDone, kFailed };
  template <class Reader>
  CallStep read_calls(Reader& reader) {
    pos_ = reader.read(buf_, pos_, sink_, gap_);
    if (reader.state() == Reader::State::kFailed) {
      gap_.text(reader.take_raw(), sink_);
      return CallStep::kFailed;
    }
    if (reader.state() != Reader::State::kDone) return CallStep::kReading;
    next_index_ = reader.next_index();
    return CallStep::kDone;
  }
  // A block that turned out not to be a call: raw_ and then `more` are content after all.
  void give_back_raw(std::string_view more = {});

  std::string buf_;
  size_t pos_ = 0;
  EventSink sink_;
  CallGapFilter gap_;
  int next_index_ = 0;  // index of the next tool call
  std::string raw_;     // bytes of a block read while it is not known to be a call
};

// A CallObjectReader that keeps the bytes it read until the call commits, so a block that turns
// out not to be a call goes back to the content, markup and all.
class GuardedCallReader {
 public:
  using State = CallObjectReader::State;
  void start(int index, std::string_view markup_before) {
    reader_.start(index);
    raw_.assign(markup_before);
  }
  // Reads from buf at pos; returns the new pos. On commit the gap filter learns a call started.
  size_t read(std::string_view buf, size_t pos, EventSink& sink, CallGapFilter& gap);
  State state() const { return reader_.state(); }
  bool committed() const { return reader_.committed(); }
  int next_index() const { return reader_.index() + 1; }  // after kDone
  // End of output: ends a committed call, else gives the raw bytes back as content.
  void finish(EventSink& sink, CallGapFilter& gap);
  // After kFailed: the bytes read, to be content.
  std::string take_raw() { return std::move(raw_); }

 private:
  CallObjectReader reader_;
  std::string raw_;
};

}  // namespace sluice::parsers
