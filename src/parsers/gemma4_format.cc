// Gemma 4 tool calls (reasoning is the <|channel>thought section, parsed before this):
//   text<|tool_call>call:NAME{key:<|"|>text<|"|>,n:1,o:{k:true},a:[1,2]}<tool_call|><|tool_call>...
// then <|tool_response>, where its template ends a turn of calls (dropped if the model writes
// it). Arguments become JSON (gemma4_value.h) and stream as they are decided. The markers are
// special tokens: the API must decode them (markers()).
#include "parsers/buffered_tool_parser.h"
#include "parsers/gemma4_grammar.h"
#include "parsers/gemma4_value.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kTurnOfCallsEnd = "<|tool_response>";
constexpr std::string_view kCallPrefix = "call:";
constexpr size_t kMaxGemma4Header = 512;

std::string_view trimmed(std::string_view s) {
  s.remove_prefix(skip_json_space(s));
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

class Gemma4Parser : public BufferedToolParser {
 private:
  enum class State { kText, kHeader, kArgs, kToClose, kBetween };

  void run() override {
    while (pos_ < buf_.size() && step(rest())) {
    }
  }

  bool step(std::string_view text) {
    switch (state_) {
      case State::kText: {
        std::string_view open[] = {kCallOpen};
        if (!pass_to_marker(open).found()) return false;
        start_call();
        return true;
      }
      case State::kHeader:
        return read_header(text);
      case State::kArgs:
        read_args(text);
        return state_ != State::kArgs;
      case State::kToClose: {
        std::string_view close[] = {kCallClose};
        if (!pass_to_marker(close, Before::kDropped).found()) return false;
        end_call();
        return true;
      }
      case State::kBetween:
        return between(text);
    }
    return false;
  }

  void start_call() {
    raw_ = kCallOpen;
    header_.clear();
    state_ = State::kHeader;
  }

  // "call:NAME" up to the arguments' '{' (left for the converter) or the call's end.
  bool read_header(std::string_view text) {
    std::string_view ends[] = {"{", kCallClose};
    MarkerHit hit = find_marker(text, ends);
    size_t n = hit.found() ? hit.pos : text.size() - partial_marker_len(text, ends);
    header_.append(text.substr(0, n));
    raw_.append(text.substr(0, n));
    pos_ += n;
    if (header_.size() > kMaxGemma4Header || header_.find('\n') != std::string::npos) {
      give_back();
      return true;
    }
    if (!hit.found()) return false;
    std::string_view name = trimmed(header_);
    if (name.starts_with(kCallPrefix)) name = trimmed(name.substr(kCallPrefix.size()));
    if (name.empty()) {
      give_back();
      return true;
    }
    gap_.call_starts();
    sink_.begin(next_index_, name);
    raw_.clear();
    converter_ = Gemma4ValueConverter();
    args_seen_ = false;
    if (hit.which == 1) {  // no arguments at all
      pos_ += kCallClose.size();
      end_call();
    } else {
      state_ = State::kArgs;
    }
    return true;
  }

  // The arguments object, up to its end or the call's end (whichever comes first).
  void read_args(std::string_view text) {
    std::string_view close[] = {kCallClose};
    MarkerHit hit = find_marker(text, close);
    size_t avail = hit.found() ? hit.pos : text.size() - partial_marker_len(text, close);
    std::string json;
    size_t n = converter_.feed(text.substr(0, avail), json);
    pos_ += n;
    if (converter_.state() == Gemma4ValueConverter::State::kReading && hit.found()) {
      converter_.finish(text.substr(n, avail - n), json);
      pos_ += avail - n + kCallClose.size();
      emit(json);
      end_call();
      return;
    }
    emit(json);
    if (converter_.state() != Gemma4ValueConverter::State::kReading) state_ = State::kToClose;
  }

  void emit(const std::string& json) {
    if (json.empty()) return;
    sink_.arguments(next_index_, json);
    args_seen_ = true;
  }

  void end_call() {
    if (!args_seen_) sink_.arguments(next_index_, "{}");
    sink_.end(next_index_++);
    gap_.call_ended();
    state_ = State::kBetween;
  }

  // After a call: more calls, the end of the turn's calls, or text.
  bool between(std::string_view text) {
    size_t space = skip_json_space(text);
    gap_.text(text.substr(0, space), sink_);
    pos_ += space;
    text.remove_prefix(space);
    if (text.empty()) return false;
    for (std::string_view marker : {kCallOpen, kTurnOfCallsEnd}) {
      Lookahead match = starts_with_token(text, marker);
      if (match == Lookahead::kNeedMore) return false;
      if (match == Lookahead::kNo) continue;
      pos_ += marker.size();
      if (marker == kCallOpen) {
        start_call();
        return true;
      }
      break;
    }
    state_ = State::kText;
    return true;
  }

  void give_back(std::string_view more = {}) {
    give_back_raw(more);
    state_ = State::kText;
  }

  void at_end() override {
    switch (state_) {
      case State::kText:
      case State::kBetween:
        gap_.text(rest(), sink_);  // a partial marker is text after all
        break;
      case State::kHeader:
        give_back(rest());
        break;
      case State::kArgs: {
        std::string json;
        converter_.finish(rest(), json);
        emit(json);
        end_call();
        break;
      }
      case State::kToClose:
        end_call();
        break;
    }
    state_ = State::kText;
  }

  State state_ = State::kText;
  std::string header_;
  Gemma4ValueConverter converter_;
  bool args_seen_ = false;
};

class Gemma4Format : public ToolFormat {
 public:
  std::string name() const override { return "gemma4"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<Gemma4Parser>();
  }
  std::vector<std::string> markers() const override {
    return {std::string(kCallOpen), std::string(kCallClose), std::string(kGemmaQuote),
            std::string(kTurnOfCallsEnd)};
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    return gemma4_calls_grammar(tools, only, min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_gemma4_format() {
  return std::make_unique<Gemma4Format>();
}

}  // namespace sluice::parsers
