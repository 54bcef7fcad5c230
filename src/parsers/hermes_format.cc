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
      std::string_view text = rest();
      if (state_ == State::kText) {
        MarkerHit hit = find_marker(text, kOpenOnly);
        if (!hit.found()) {
          size_t hold = partial_marker_len(text, kOpenOnly);
          gap_.text(text.substr(0, text.size() - hold), sink_);
          pos_ = buf_.size() - hold;
          return;
        }
        gap_.text(text.substr(0, hit.pos), sink_);
        pos_ += hit.pos + kOpen.size();
        start_call();
      } else if (state_ == State::kCall) {
        pos_ = call_.read(buf_, pos_, sink_, gap_);
        if (call_.state() == CallObjectReader::State::kFailed) {
          gap_.text(call_.take_raw(), sink_);
          state_ = State::kText;
        } else if (call_.state() == CallObjectReader::State::kDone) {
          ++next_index_;
          state_ = State::kAfterCall;
        }
      } else {  // kAfterCall: skip to </tool_call> (or a next <tool_call> if the close is missing)
        MarkerHit hit = find_marker(text, kCloseOrOpen);
        if (!hit.found()) {
          pos_ = buf_.size() - partial_marker_len(text, kCloseOrOpen);
          return;
        }
        pos_ += hit.pos + kCloseOrOpen[hit.which].size();
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
    using namespace structured;
    SLUICE_ASSIGN_OR_RETURN(
        NodePtr call, function_choice(tools, only, [](const Json& fn, NodePtr args) {
          std::string head = std::string(kOpen) + "\n{\"name\": " + json_quote(function_name(fn)) +
                             ", \"arguments\": ";
          return sequence({literal(head), args, literal("}\n" + std::string(kClose))});
        }));
    return separated(call, "\n", min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_hermes_format() {
  return std::make_unique<HermesFormat>();
}

}  // namespace sluice::parsers
