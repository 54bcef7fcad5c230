// Generic JSON tool calls, for templates that render no tool syntax of their own. Definition:
// the WHOLE output (after leading whitespace, optionally inside one ```json fence) is either
//   {"name": "f", "arguments": {...}}            one call, or
//   [{"name": "f", "arguments": {...}}, ...]     several,
// ("parameters" accepted for "arguments"). Any other output is content, and so is text after the
// calls (the closing fence dropped). There are no tags, so content that starts with "{", "[" or a
// fence is held until its first key says whether it is a call. The grammar writes the array form.
#include "parsers/buffered_tool_parser.h"
#include "parsers/call_array_reader.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kFence = "```";
constexpr std::string_view kFenceOnly[] = {kFence};
constexpr size_t kMaxFenceLine = 16;  // "```json" plus a little slack before its newline

class JsonParser : public BufferedToolParser {
 private:
  enum class State { kStart, kObject, kArray, kAfter, kContent };

  void run() override {
    while (pos_ < buf_.size()) {
      std::string_view text = rest();
      switch (state_) {
        case State::kStart:
          if (!start(text)) return;
          break;
        case State::kObject:
          after_calls(read_calls(call_));
          break;
        case State::kArray:
          after_calls(read_calls(array_));
          break;
        case State::kAfter:  // the closing fence is dropped, other text is content
          if (fenced_ && !pass_to_marker(kFenceOnly).found()) return;
          state_ = State::kContent;
          break;
        case State::kContent:
          gap_.text(text, sink_);
          pos_ = buf_.size();
          break;
      }
    }
  }

  void after_calls(CallStep step) {
    if (step == CallStep::kFailed) state_ = State::kContent;
    if (step == CallStep::kDone) state_ = State::kAfter;
  }

  // Leading whitespace and fence, then "{" / "[" (calls) or anything else (content).
  bool start(std::string_view text) {
    size_t space = skip_json_space(text);
    lead_.append(text.substr(0, space));
    pos_ += space;
    text.remove_prefix(space);
    if (text.empty()) return false;
    if (!fenced_) {
      Lookahead fence = starts_with_token(text, kFence);
      if (fence == Lookahead::kNeedMore) return false;
      if (fence == Lookahead::kYes) {
        size_t newline = text.find('\n');
        if (newline == std::string_view::npos && text.size() < kMaxFenceLine) return false;
        std::string_view info = text.substr(kFence.size(), newline - kFence.size());
        if (newline != std::string_view::npos && (info.empty() || info == "json")) {
          lead_.append(text.substr(0, newline + 1));
          pos_ += newline + 1;
          fenced_ = true;
          return true;
        }
      }
    }
    if (text[0] == '{') {
      call_.start(next_index_, lead_);
      state_ = State::kObject;
    } else if (text[0] == '[') {
      ++pos_;
      array_.start(next_index_, lead_ + "[");
      state_ = State::kArray;
    } else {
      gap_.text(lead_, sink_);
      state_ = State::kContent;
    }
    lead_.clear();
    return true;
  }

  void at_end() override {
    if (state_ == State::kObject) {
      call_.finish(sink_, gap_);
    } else if (state_ == State::kArray) {
      array_.finish(sink_, gap_);
    } else {
      gap_.text(lead_, sink_);
      gap_.text(rest(), sink_);
    }
    lead_.clear();
  }

  State state_ = State::kStart;
  bool fenced_ = false;
  std::string lead_;  // leading whitespace and fence, content if no call follows
  GuardedCallReader call_;
  CallArrayReader array_;
};

class JsonFormat : public ToolFormat {
 public:
  std::string name() const override { return "json"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<JsonParser>();
  }
  // [{"name": "f", "arguments": ARGS}, ...]
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    SLUICE_ASSIGN_OR_RETURN(NodePtr call, json_call_choice(tools, only, "arguments"));
    SLUICE_ASSIGN_OR_RETURN(NodePtr calls, separated(call, ", ", min_calls, max_calls));
    return sequence({literal("["), calls, literal("]")});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_json_format() {
  return std::make_unique<JsonFormat>();
}

}  // namespace sluice::parsers
