// Hermes / Qwen2.5 / Qwen3 / SmolLM3 tool calls:
//   free text <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>\n<tool_call>...
// Text outside the tags is content. Bytes between the call object and </tool_call> are dropped.
// A <tool_call> block that is not a call object (broken JSON before the name is known) is content,
// markup included: the model wrote it, and dropping it would lose text.
#include "parsers/buffered_tool_parser.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";
constexpr std::string_view kOpenOnly[] = {kOpen};
constexpr std::string_view kCloseOrOpen[] = {kClose, kOpen};

class HermesParser : public BufferedToolParser {
 private:
  enum class State { kText, kCall, kAfterCall };

  void run() override {
    while (pos_ < buf_.size()) {
      if (state_ == State::kText) {
        if (!pass_to_marker(kOpenOnly).found()) return;
        start_call();
      } else if (state_ == State::kCall) {
        CallStep step = read_calls(call_);
        if (step == CallStep::kFailed) state_ = State::kText;
        if (step == CallStep::kDone) state_ = State::kAfterCall;
      } else {  // kAfterCall: skip to </tool_call> (or a next <tool_call> if the close is missing)
        MarkerHit hit = pass_to_marker(kCloseOrOpen, Before::kDropped);
        if (!hit.found()) return;
        if (hit.which == 1) {
          start_call();
        } else {
          state_ = State::kText;
        }
      }
    }
  }

  void start_call() {
    call_.start(next_index_, kOpen);
    state_ = State::kCall;
  }

  void at_end() override {
    if (state_ == State::kText) gap_.text(rest(), sink_);  // a partial tag is text after all
    if (state_ == State::kCall) call_.finish(sink_, gap_);
    if (state_ == State::kCall && call_.committed()) ++next_index_;
    state_ = State::kText;
  }

  State state_ = State::kText;
  GuardedCallReader call_;
};

class HermesFormat : public ToolFormat {
 public:
  std::string name() const override { return "hermes"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<HermesParser>();
  }
  // <tool_call>\n{"name": "f", "arguments": ARGS}\n</tool_call>, calls separated by "\n".
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    SLUICE_ASSIGN_OR_RETURN(NodePtr call,
                            json_call_choice(tools, only, "arguments", std::string(kOpen) + "\n",
                                             "\n" + std::string(kClose)));
    return separated(call, "\n", min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_hermes_format() {
  return std::make_unique<HermesFormat>();
}

}  // namespace sluice::parsers
