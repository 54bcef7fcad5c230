// Qwen3-Coder / Qwen3.5 XML tool calls:
//   text
//   <tool_call>\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>\n</tool_call>
// The arguments become a JSON object {"P": value, ...} in the order written. A value is typed by
// the tool's schema: string parameters (and parameters the schema does not declare) are JSON
// strings, streamed as they arrive; number/integer/boolean/null/object/array parameters are
// parsed as JSON when they parse (booleans also True/False), else kept as strings. One newline
// right after <parameter=P> and right before </parameter> belongs to the markup.
#include "parsers/buffered_tool_parser.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/qwen3_coder_grammar.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";
constexpr std::string_view kFunction = "<function=";
constexpr std::string_view kFunctionEnd = "</function>";
constexpr std::string_view kParam = "<parameter=";
constexpr std::string_view kParamEnd = "</parameter>";
constexpr std::string_view kOpenOnly[] = {kOpen};
constexpr std::string_view kBodyMarkers[] = {kParam, kFunctionEnd, kClose};
constexpr std::string_view kValueEnds[] = {"\n</parameter>", kParamEnd};
constexpr std::string_view kAfterFunctionMarkers[] = {kClose, kOpen, kFunction};
constexpr size_t kMaxName = 256;

class Qwen3CoderParser : public BufferedToolParser {
 public:
  explicit Qwen3CoderParser(const ToolSpec& tools) : tools_(tools) {}

 private:
  enum class State { kText, kOpen, kFuncName, kBody, kParamName, kValue, kAfterFunction };

  void run() override {
    while (pos_ < buf_.size()) {
      std::string_view text = rest();
      switch (state_) {
        case State::kText:
          if (!pass_to_marker(kOpenOnly).found()) return;
          raw_ = kOpen;
          state_ = State::kOpen;
          break;
        case State::kOpen: {
          size_t space = skip_json_space(text);
          raw_.append(text.substr(0, space));
          pos_ += space;
          if (space == text.size()) return;
          Lookahead fn = starts_with_token(text.substr(space), kFunction);
          if (fn == Lookahead::kNeedMore) return;
          if (fn == Lookahead::kNo) {
            give_back_as_content();
            break;
          }
          raw_.append(kFunction);
          pos_ += kFunction.size();
          name_.clear();
          state_ = State::kFuncName;
          break;
        }
        case State::kFuncName:
          if (!read_name(text, name_)) return;
          break;
        case State::kBody:
        case State::kAfterFunction: {  // markup and stray text between the pieces is dropped
          Markers markers =
              state_ == State::kBody ? Markers(kBodyMarkers) : Markers(kAfterFunctionMarkers);
          MarkerHit hit = pass_to_marker(markers, Before::kDropped);
          if (!hit.found()) return;
          on_marker(markers[hit.which]);
          break;
        }
        case State::kParamName:
          if (!read_name(text, param_)) return;
          break;
        case State::kValue:
          if (!read_value(text)) return;
          break;
      }
    }
  }

  void on_marker(std::string_view marker) {
    if (marker == kParam) {
      param_.clear();
      state_ = State::kParamName;
    } else if (marker == kFunctionEnd) {
      end_call();
      state_ = State::kAfterFunction;
    } else if (marker == kClose) {
      if (state_ == State::kBody) end_call();
      state_ = State::kText;
    } else if (marker == kOpen) {
      raw_ = kOpen;
      state_ = State::kOpen;
    } else {  // another <function= in the same block
      raw_ = kFunction;
      name_.clear();
      state_ = State::kFuncName;
    }
  }

  // NAME> of a function or parameter. False: more bytes needed.
  bool read_name(std::string_view text, std::string& name) {
    size_t end = text.find('>');
    size_t n = end == std::string_view::npos ? text.size() : end;
    std::string_view piece = text.substr(0, n);
    bool bad = piece.find('\n') != std::string_view::npos || name.size() + n > kMaxName;
    name.append(piece);
    pos_ += n;
    if (state_ == State::kFuncName) raw_.append(piece);
    if (bad) {
      if (state_ == State::kFuncName) {
        give_back_as_content();
      } else {
        state_ = State::kBody;  // a broken parameter tag is dropped
      }
      return true;
    }
    if (end == std::string_view::npos) return false;
    ++pos_;
    if (state_ == State::kFuncName) {
      begin_call();
    } else {
      begin_param();
    }
    return true;
  }

  void begin_call() {
    gap_.call_starts();
    sink_.begin(next_index_, name_);
    sink_.arguments(next_index_, "{");
    function_ = find_function(tools_, name_);
    num_params_ = 0;
    state_ = State::kBody;
  }

  void begin_param() {
    kind_ = param_kind(parameter_schema(function_, param_));
    std::string head = (num_params_++ > 0 ? ", " : "") + json_quote(param_) + ": ";
    if (kind_ == ParamKind::kString) head += '"';
    sink_.arguments(next_index_, head);
    value_.clear();
    value_start_ = true;
    state_ = State::kValue;
  }

  // Value bytes up to </parameter>. False: more bytes needed.
  bool read_value(std::string_view text) {
    if (value_start_) {
      if (text[0] == '\n') {
        ++pos_;
        text.remove_prefix(1);
      }
      value_start_ = false;
      if (text.empty()) return false;
    }
    MarkerHit hit = find_marker(text, kValueEnds);
    if (!hit.found()) {
      size_t hold = partial_marker_len(text, kValueEnds);
      value_piece(text.substr(0, text.size() - hold));
      pos_ = buf_.size() - hold;
      return false;
    }
    value_piece(text.substr(0, hit.pos));
    pos_ += hit.pos + kValueEnds[hit.which].size();
    end_param();
    return true;
  }

  void value_piece(std::string_view piece) {
    if (kind_ != ParamKind::kString) {
      value_.append(piece);
      return;
    }
    std::string escaped;
    append_json_escaped(piece, escaped);
    sink_.arguments(next_index_, escaped);
  }

  void end_param() {
    sink_.arguments(next_index_,
                    kind_ == ParamKind::kString ? "\"" : typed_param_value(value_, kind_));
    state_ = State::kBody;
  }

  void end_call() {
    sink_.arguments(next_index_, "}");
    sink_.end(next_index_++);
    gap_.call_ended();
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
      case State::kOpen:
      case State::kFuncName:
        give_back_raw(rest());
        break;
      case State::kValue:
        value_piece(rest());  // a held partial </parameter> is value text after all
        end_param();
        end_call();
        break;
      case State::kBody:
      case State::kParamName:
        end_call();
        break;
      case State::kAfterFunction:
        break;
    }
  }

  ToolSpec tools_;
  State state_ = State::kText;
  std::string name_;   // function name
  std::string param_;  // parameter name
  const Json* function_ = nullptr;
  int num_params_ = 0;
  ParamKind kind_ = ParamKind::kString;
  std::string value_;  // a non-string value, converted at its end
  bool value_start_ = false;
};

class Qwen3CoderFormat : public ToolFormat {
 public:
  std::string name() const override { return "qwen3_coder"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec& tools) const override {
    return std::make_unique<Qwen3CoderParser>(tools);
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    return qwen3_coder_calls_grammar(tools, only, min_calls, max_calls);
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_qwen3_coder_format() {
  return std::make_unique<Qwen3CoderFormat>();
}

}  // namespace sluice::parsers
