// Granite 3.x tool calls (the 3.3 template documents them in its system prompt):
//   text<|tool_call|>[{"name": "f", "arguments": {...}}, ...]
// A single call object after the marker is read too. A marker followed by neither is content,
// markup included. Granite 4 writes Hermes <tool_call> blocks instead (format "hermes").
#include "parsers/buffered_tool_parser.h"
#include "parsers/call_array_reader.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kToolCall = "<|tool_call|>";
constexpr std::string_view kToolCallOnly[] = {kToolCall};

class GraniteParser : public BufferedToolParser {
 private:
  enum class State { kText, kAfterMarker, kObject, kArray };

  void run() override {
    while (pos_ < buf_.size()) {
      switch (state_) {
        case State::kText:
          if (!pass_to_marker(kToolCallOnly).found()) return;
          raw_ = kToolCall;
          state_ = State::kAfterMarker;
          break;
        case State::kAfterMarker: {
          std::string_view text = rest();
          size_t space = skip_json_space(text);
          raw_.append(text.substr(0, space));
          pos_ += space;
          if (space == text.size()) return;
          if (text[space] == '[') {
            ++pos_;
            array_.start(next_index_, raw_ + "[");
            state_ = State::kArray;
          } else if (text[space] == '{') {
            call_.start(next_index_, raw_);
            state_ = State::kObject;
          } else {
            give_back_raw();
            state_ = State::kText;
          }
          break;
        }
        case State::kObject:
          if (read_calls(call_) != CallStep::kReading) state_ = State::kText;
          break;
        case State::kArray:
          if (read_calls(array_) != CallStep::kReading) state_ = State::kText;
          break;
      }
    }
  }

  void at_end() override {
    switch (state_) {
      case State::kText:
        gap_.text(rest(), sink_);
        break;
      case State::kAfterMarker:
        give_back_raw(rest());
        break;
      case State::kObject:
        call_.finish(sink_, gap_);
        break;
      case State::kArray:
        array_.finish(sink_, gap_);
        break;
    }
    state_ = State::kText;
  }

  State state_ = State::kText;
  GuardedCallReader call_;
  CallArrayReader array_;
};

class GraniteFormat : public ToolFormat {
 public:
  std::string name() const override { return "granite"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<GraniteParser>();
  }
  std::vector<std::string> markers() const override { return {std::string(kToolCall)}; }
  // <|tool_call|>[{"name": "f", "arguments": ARGS}, ...]
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    SLUICE_ASSIGN_OR_RETURN(NodePtr call, json_call_choice(tools, only, "arguments"));
    SLUICE_ASSIGN_OR_RETURN(NodePtr calls, separated(call, ", ", min_calls, max_calls));
    return sequence({literal(std::string(kToolCall) + "["), calls, literal("]")});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_granite_format() {
  return std::make_unique<GraniteFormat>();
}

}  // namespace sluice::parsers
