// Mistral tool calls, both generations:
//   [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]        (Nemo / v3 tokenizers)
//   [TOOL_CALLS]f[ARGS]{...}[TOOL_CALLS]g[ARGS]{...}            (Small 3.2 / v11 tokenizers;
//                                                                 [CALL_ID]id before [ARGS] ok)
// Text before [TOOL_CALLS] and after the calls is content. A [TOOL_CALLS] not followed by either
// form is content, markup included. [TOOL_CALLS], [ARGS] and [CALL_ID] are special tokens: the
// API must decode them (ToolFormat::markers()). The grammar writes the array form.
#include <cctype>

#include "parsers/buffered_tool_parser.h"
#include "parsers/call_array_reader.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kToolCalls = "[TOOL_CALLS]";
constexpr std::string_view kArgs = "[ARGS]";
constexpr std::string_view kCallId = "[CALL_ID]";
constexpr std::string_view kToolCallsOnly[] = {kToolCalls};
constexpr std::string_view kArgsOnly[] = {kArgs};
constexpr size_t kMaxName = 256;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

class MistralParser : public BufferedToolParser {
 private:
  enum class State { kText, kAfterMarker, kName, kCallId, kArgsStart, kArgs, kObject, kArray };

  void run() override {
    while (pos_ < buf_.size()) {
      std::string_view text = rest();
      switch (state_) {
        case State::kText:
          if (!pass_to_marker(kToolCallsOnly).found()) return;
          raw_ = kToolCalls;
          state_ = State::kAfterMarker;
          break;
        case State::kAfterMarker: {
          size_t space = skip_json_space(text);
          raw_.append(text.substr(0, space));
          pos_ += space;
          if (space == text.size()) return;
          char c = text[space];
          if (c == '[') {
            ++pos_;
            array_.start(next_index_, raw_ + "[");
            state_ = State::kArray;
          } else if (c == '{') {
            call_.start(next_index_, raw_);
            state_ = State::kObject;
          } else if (is_name_char(c)) {
            name_.clear();
            state_ = State::kName;
          } else {
            give_back_as_content();
          }
          break;
        }
        case State::kName:
          if (!read_name(text)) return;
          break;
        case State::kCallId:  // the id is dropped up to [ARGS]
          if (!pass_to_marker(kArgsOnly, Before::kDropped).found()) return;
          state_ = State::kArgsStart;
          break;
        case State::kArgsStart: {
          size_t space = skip_json_space(text);
          pos_ += space;
          if (space == text.size()) return;
          scanner_.reset();
          state_ = State::kArgs;
          break;
        }
        case State::kArgs:
          read_args(text);
          break;
        case State::kObject:
          if (read_calls(call_) != CallStep::kReading) state_ = State::kText;
          break;
        case State::kArray:
          if (read_calls(array_) != CallStep::kReading) state_ = State::kText;
          break;
      }
    }
  }

  // NAME then [ARGS] or [CALL_ID]: the call begins. False: more bytes needed.
  bool read_name(std::string_view text) {
    size_t n = 0;
    while (n < text.size() && is_name_char(text[n])) ++n;
    name_.append(text.substr(0, n));
    raw_.append(text.substr(0, n));
    pos_ += n;
    text.remove_prefix(n);
    if (name_.size() > kMaxName) return give_back_as_content(), true;
    if (text.empty()) return false;
    for (std::string_view token : {kArgs, kCallId}) {
      Lookahead match = starts_with_token(text, token);
      if (match == Lookahead::kNeedMore) return false;
      if (match == Lookahead::kYes) {
        pos_ += token.size();
        gap_.call_starts();
        sink_.begin(next_index_, name_);
        state_ = token == kArgs ? State::kArgsStart : State::kCallId;
        return true;
      }
    }
    give_back_as_content();
    return true;
  }

  void read_args(std::string_view text) {
    size_t n = 0;
    for (; n < text.size(); ++n) {
      auto step = scanner_.push(text[n]);
      if (step == JsonValueScanner::Step::kEnded) ++n;
      if (step != JsonValueScanner::Step::kInside) {
        sink_.arguments(next_index_, text.substr(0, n));
        if (n == 0 && !args_seen_) sink_.arguments(next_index_, "{}");
        pos_ += n;
        end_call();
        return;
      }
    }
    sink_.arguments(next_index_, text);
    args_seen_ = true;
    pos_ += n;
  }

  void end_call() {
    sink_.end(next_index_++);
    gap_.call_ended();
    args_seen_ = false;
    state_ = State::kText;
  }

  void give_back_as_content() {
    give_back_raw();
    state_ = State::kText;
  }

  void at_end() override {
    switch (state_) {
      case State::kText:
        gap_.text(rest(), sink_);
        break;
      case State::kAfterMarker:
      case State::kName:
        give_back_raw(rest());
        break;
      case State::kCallId:
      case State::kArgsStart:
      case State::kArgs:
        if (!args_seen_) sink_.arguments(next_index_, "{}");
        end_call();
        break;
      case State::kObject:
        call_.finish(sink_, gap_);
        break;
      case State::kArray:
        array_.finish(sink_, gap_);
        break;
    }
  }

  State state_ = State::kText;
  std::string name_;  // v11 form: the function name
  bool args_seen_ = false;
  JsonValueScanner scanner_;
  GuardedCallReader call_;
  CallArrayReader array_;
};

class MistralFormat : public ToolFormat {
 public:
  std::string name() const override { return "mistral"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<MistralParser>();
  }
  std::vector<std::string> markers() const override {
    return {std::string(kToolCalls), std::string(kArgs), std::string(kCallId)};
  }
  // [TOOL_CALLS][{"name": "f", "arguments": ARGS}, ...]
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    SLUICE_ASSIGN_OR_RETURN(NodePtr call, json_call_choice(tools, only, "arguments"));
    SLUICE_ASSIGN_OR_RETURN(NodePtr calls, separated(call, ", ", min_calls, max_calls));
    return sequence({literal(std::string(kToolCalls) + "["), calls, literal("]")});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_mistral_format() {
  return std::make_unique<MistralFormat>();
}

}  // namespace sluice::parsers
