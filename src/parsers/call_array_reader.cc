#include "parsers/call_array_reader.h"

#include "parsers/text_scan.h"

namespace sluice::parsers {

void CallArrayReader::start(int first_index, std::string markup_before) {
  state_ = State::kReading;
  phase_ = Phase::kItemStart;
  next_index_ = first_index;
  any_call_ = false;
  raw_ = std::move(markup_before);
}

void CallArrayReader::fail_item() {
  // Before any call the whole array is content; after one, the broken item is content.
  if (!any_call_) {
    raw_ += item_.take_raw();
  } else {
    raw_ = item_.take_raw();
  }
  state_ = State::kFailed;
}

size_t CallArrayReader::read(std::string_view buf, size_t pos, EventSink& sink,
                             CallGapFilter& gap) {
  while (pos < buf.size() && state_ == State::kReading) {
    char c = buf[pos];
    if (phase_ == Phase::kItem) {
      pos = item_.read(buf, pos, sink, gap);
      if (item_.committed() && !any_call_) {
        any_call_ = true;
        raw_.clear();
      }
      if (item_.state() == CallObjectReader::State::kFailed) {
        fail_item();
      } else if (item_.state() == CallObjectReader::State::kDone) {
        ++next_index_;
        phase_ = Phase::kAfterItem;
      }
      continue;
    }
    if (is_json_space(c)) {
      if (!any_call_) raw_ += c;
      ++pos;
      continue;
    }
    if (phase_ == Phase::kItemStart && c == '{') {
      item_.start(next_index_, "");
      phase_ = Phase::kItem;
    } else if (c == ']' && any_call_) {
      ++pos;
      state_ = State::kDone;
    } else if (phase_ == Phase::kAfterItem && c == ',') {
      ++pos;
      phase_ = Phase::kItemStart;
    } else {
      state_ = any_call_ ? State::kDone : State::kFailed;  // not (or no longer) a call array
    }
  }
  return pos;
}

void CallArrayReader::finish(EventSink& sink, CallGapFilter& gap) {
  if (state_ != State::kReading) return;
  bool item_open = phase_ == Phase::kItem;
  if (!any_call_ && !(item_open && item_.committed())) {
    gap.text(raw_, sink);  // not a call array: content, the item's own bytes follow
    raw_.clear();
  }
  if (item_open) item_.finish(sink, gap);  // a committed item ends; else its bytes are content
  state_ = State::kDone;
}

}  // namespace sluice::parsers
