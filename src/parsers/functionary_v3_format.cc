// Functionary v3.2 output: messages each led by ">>>RECIPIENT\n"; the generation prompt ends
// with ">>>", so the output starts with the first recipient:
//   all\nSome text>>>get_weather\n{"city": "Paris"}>>>search\n{...}
// "all" is text for the user; any other recipient followed by a JSON object is a call. A first
// line that is not a recipient, or a recipient not followed by an object (python code, say), is
// content, markup included.
#include <cctype>

#include "parsers/buffered_tool_parser.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kLead = ">>>";
constexpr std::string_view kLeadOnly[] = {kLead};
constexpr size_t kMaxName = 256;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

class FunctionaryV3Parser : public BufferedToolParser {
 private:
  enum class State { kRecipient, kText, kArgsStart, kArgs, kAfterCall };

  void run() override {
    while (pos_ < buf_.size()) {
      std::string_view text = rest();
      switch (state_) {
        case State::kText:
          if (!pass_to_marker(kLeadOnly).found()) return;
          raw_ = kLead;
          name_.clear();
          state_ = State::kRecipient;
          break;
        case State::kRecipient:
          if (!read_recipient(text)) return;
          break;
        case State::kArgsStart: {  // a call only when an object follows
          size_t space = skip_json_space(text);
          raw_.append(text.substr(0, space));
          pos_ += space;
          if (space == text.size()) return;
          if (text[space] != '{') {
            give_back_as_content();
            break;
          }
          gap_.call_starts();
          sink_.begin(next_index_, name_);
          raw_.clear();
          scanner_.reset();
          state_ = State::kArgs;
          break;
        }
        case State::kArgs:
          read_args(text);
          break;
        case State::kAfterCall: {
          size_t space = skip_json_space(text);
          gap_.text(text.substr(0, space), sink_);
          pos_ += space;
          if (space == text.size()) return;
          Lookahead lead = starts_with_token(text.substr(space), kLead);
          if (lead == Lookahead::kNeedMore) return;
          state_ = State::kText;
          break;
        }
      }
    }
  }

  // RECIPIENT\n: "all" opens text, another name a call. False: more bytes needed.
  bool read_recipient(std::string_view text) {
    size_t n = 0;
    while (n < text.size() && is_name_char(text[n])) ++n;
    name_.append(text.substr(0, n));
    raw_.append(text.substr(0, n));
    pos_ += n;
    if (n == text.size()) {
      if (name_.size() > kMaxName) give_back_as_content();
      return name_.size() > kMaxName;
    }
    if (text[n] != '\n' || name_.empty()) {
      give_back_as_content();
      return true;
    }
    ++pos_;
    raw_ += '\n';
    if (name_ == "all") {
      raw_.clear();
      state_ = State::kText;
    } else {
      state_ = State::kArgsStart;
    }
    return true;
  }

  void read_args(std::string_view text) {
    size_t n = 0;
    for (; n < text.size(); ++n) {
      auto step = scanner_.push(text[n]);
      if (step == JsonValueScanner::Step::kEnded) ++n;
      if (step != JsonValueScanner::Step::kInside) {
        sink_.arguments(next_index_, text.substr(0, n));
        pos_ += n;
        end_call();
        return;
      }
    }
    sink_.arguments(next_index_, text);
    pos_ += n;
  }

  void end_call() {
    sink_.end(next_index_++);
    gap_.call_ended();
    state_ = State::kAfterCall;
  }

  void give_back_as_content() {
    give_back_raw();
    state_ = State::kText;
  }

  void at_end() override {
    switch (state_) {
      case State::kText:
      case State::kAfterCall:
        gap_.text(rest(), sink_);
        break;
      case State::kRecipient:
      case State::kArgsStart:
        give_back_raw(rest());
        break;
      case State::kArgs:
        end_call();
        break;
    }
    state_ = State::kText;
  }

  State state_ = State::kRecipient;
  std::string name_;
  JsonValueScanner scanner_;
};

class FunctionaryV3Format : public ToolFormat {
 public:
  std::string name() const override { return "functionary_v3"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<FunctionaryV3Parser>();
  }
  // NAME\nARGS, calls separated by ">>>" (the prompt wrote the first one).
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    SLUICE_ASSIGN_OR_RETURN(NodePtr call,
                            function_choice(tools, only, [](const Json& fn, NodePtr args) {
                              return sequence({literal(function_name(fn) + "\n"), args});
                            }));
    return separated(call, std::string(kLead), min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_functionary_v3_format() {
  return std::make_unique<FunctionaryV3Format>();
}

}  // namespace sluice::parsers
