// Llama 3.1 / 3.2 / 3.3 JSON tool calls: an output that starts (after whitespace) with a call
// object, or with <|python_tag|>, is calls:
//   <|python_tag|>{"name": "f", "parameters": {...}}; {"name": "g", "parameters": {...}}
// ("arguments" accepted for "parameters"; calls separated by ";" or just whitespace). A
// <|python_tag|> later in the text also starts calls; a "{" later in the text is content. An
// object that is not a call (`{"answer": 1}`) is content. Built-in tool syntax
// (`brave_search.call(query=...)`) is not parsed: content. <|python_tag|> is a special token:
// the API must decode it (see ToolFormat::markers()).
#include "parsers/buffered_tool_parser.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kTagOnly[] = {kPythonTag};

class Llama3JsonParser : public BufferedToolParser {
 private:
  enum class State { kStart, kText, kCall, kBetween };

  void run() override {
    while (pos_ < buf_.size()) {
      if (state_ == State::kText) {
        if (!pass_to_marker(kTagOnly).found()) return;
        start_call(std::string(kPythonTag));
      } else if (state_ == State::kCall) {
        CallStep step = read_calls(call_);
        if (step == CallStep::kFailed) state_ = State::kText;
        if (step == CallStep::kDone) state_ = State::kBetween;
      } else if (!start_or_between(rest())) {
        return;  // need more bytes
      }
    }
  }

  // At the start of output or after a call: whitespace, then a call, a separator or text.
  bool start_or_between(std::string_view text) {
    size_t space = skip_json_space(text);
    space_.append(text.substr(0, space));
    pos_ += space;
    text.remove_prefix(space);
    if (text.empty()) return false;
    if (text[0] == '{') {
      start_call(std::move(space_));
    } else if (state_ == State::kBetween && text[0] == ';') {
      ++pos_;
      start_call(space_ + ";");
    } else {
      Lookahead tag = starts_with_token(text, kPythonTag);
      if (tag == Lookahead::kNeedMore) return false;
      if (tag == Lookahead::kYes) {
        pos_ += kPythonTag.size();
        start_call(space_ + std::string(kPythonTag));
      } else {
        gap_.text(space_, sink_);
        state_ = State::kText;
      }
    }
    space_.clear();
    return true;
  }

  void start_call(std::string markup_before) {
    call_.start(next_index_, markup_before);
    state_ = State::kCall;
  }

  void at_end() override {
    if (state_ == State::kCall) {
      call_.finish(sink_, gap_);
    } else {
      gap_.text(space_, sink_);
      gap_.text(rest(), sink_);  // a partial tag is text after all
    }
    space_.clear();
  }

  State state_ = State::kStart;
  std::string space_;  // whitespace read at the start or after a call, role not yet known
  GuardedCallReader call_;
};

class Llama3JsonFormat : public ToolFormat {
 public:
  std::string name() const override { return "llama3_json"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<Llama3JsonParser>();
  }
  std::vector<std::string> markers() const override { return {std::string(kPythonTag)}; }
  // {"name": "f", "parameters": ARGS}, calls separated by "; " (the bare JSON the templates show).
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    SLUICE_ASSIGN_OR_RETURN(NodePtr call, json_call_choice(tools, only, "parameters"));
    return separated(call, "; ", min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_llama3_json_format() {
  return std::make_unique<Llama3JsonFormat>();
}

}  // namespace sluice::parsers
