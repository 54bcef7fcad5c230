#pragma once
// Reads a JSON array of call objects `[{"name": ...}, {...}]` (the opening bracket already
// consumed), each item with a GuardedCallReader. Until the first call commits, every byte read is
// kept so a non-call array goes back to the content. After a committed call, bytes that do not
// continue the array end it (kDone) and are left to the caller.
#include <string>
#include <string_view>

#include "parsers/buffered_tool_parser.h"

namespace sluice::parsers {

class CallArrayReader {
 public:
  enum class State { kReading, kDone, kFailed };

  void start(int first_index, std::string markup_before);
  size_t read(std::string_view buf, size_t pos, EventSink& sink, CallGapFilter& gap);
  // End of output: ends a committed call; a non-call array goes back to the content.
  void finish(EventSink& sink, CallGapFilter& gap);
  State state() const { return state_; }
  int next_index() const { return next_index_; }
  std::string take_raw() { return std::move(raw_); }  // after kFailed: the bytes read

 private:
  enum class Phase { kItemStart, kItem, kAfterItem };
  void fail_item();

  State state_ = State::kReading;
  Phase phase_ = Phase::kItemStart;
  int next_index_ = 0;
  bool any_call_ = false;  // a call committed: the array is calls
  std::string raw_;        // bytes read while no call committed
  GuardedCallReader item_;
};

}  // namespace sluice::parsers
