// Pythonic tool calls (Llama 3.2 / Llama 4 "pythonic" prompts, vLLM's pythonic and
// llama4_pythonic): a Python list of calls with literal keyword arguments, optionally between
// Llama 4's <|python_start|> and <|python_end|>:
//   text [get_weather(city="Paris", days=3), get_time()]
// Where a list may start: right after <|python_start|> (whitespace first allowed), or at a '['
// that is not a subscript: not after an identifier character, a closing bracket or a quote. It is a
// call list only when all of it is (python_call_list.h): it is held until its ']' and then its
// calls come out whole; a list that breaks (`[1]`, `[f(x)]`,
// `[f(a=b)]`, `[]`) is content, and the text after its '[' is scanned again for lists.
// Cut by the end of output: the calls whose names are complete are calls (the last with the
// arguments read so far), a cut name is content. The markers are special tokens (markers()).
#include "parsers/buffered_tool_parser.h"
#include "parsers/python_call_list.h"
#include "parsers/pythonic_grammar.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kPythonStart = "<|python_start|>";
constexpr std::string_view kPythonEnd = "<|python_end|>";

// A byte that may end a Python expression: a '[' after it is a subscript, not a list.
bool ends_expression(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ')' || c == ']' || c == '}' || c == '"' || c == '\'';
}

class PythonicParser : public BufferedToolParser {
 private:
  enum class State { kText, kList, kAfterList };

  void run() override {
    while (pos_ < buf_.size()) {
      if (state_ == State::kText && !scan_text()) return;
      if (state_ == State::kList && !read_list()) return;
      if (state_ == State::kAfterList && !after_list()) return;
    }
  }

  // Content up to where a list may start; false when the bytes run out first.
  bool scan_text() {
    std::string_view text = rest();
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '[' && at_boundary_) {
        content(text.substr(0, i));
        start_list("", /*space_before_list=*/false);
        return true;
      }
      if (c == '<') {
        Lookahead tag = starts_with_token(text.substr(i), kPythonStart);
        if (tag == Lookahead::kNeedMore) {
          content(text.substr(0, i));
          return false;
        }
        if (tag == Lookahead::kYes) {
          content(text.substr(0, i));
          pos_ += kPythonStart.size();
          start_list(std::string(kPythonStart), /*space_before_list=*/true);
          return true;
        }
      }
      at_boundary_ = !ends_expression(c);
    }
    content(text);
    return false;
  }

  void content(std::string_view text) {
    gap_.text(text, sink_);
    pos_ += text.size();
  }

  void start_list(std::string markup, bool space_before_list) {
    reader_ = PythonCallListReader(space_before_list);
    raw_ = std::move(markup);
    opening_len_ = raw_.empty() ? 1 : raw_.size();  // the '[' or the marker
    markup_len_ = raw_.size();
    state_ = State::kList;
  }

  bool read_list() {
    const size_t n = reader_.feed(rest());
    raw_.append(rest().substr(0, n));
    pos_ += n;
    switch (reader_.state()) {
      case PythonCallListReader::State::kReading:
        return false;
      case PythonCallListReader::State::kDone:
        raw_.clear();
        emit_calls();
        state_ = State::kAfterList;
        return true;
      case PythonCallListReader::State::kFailed: {
        // The opening is content; the bytes after it are scanned again.
        std::string again = raw_.substr(opening_len_);
        raw_.resize(opening_len_);
        give_back_raw();
        buf_.replace(0, pos_, again);
        pos_ = 0;
        at_boundary_ = true;  // after '[' or '>'
        state_ = State::kText;
        return true;
      }
    }
    return false;
  }

  void emit_calls() {
    for (const PythonCallListReader::Call& call : reader_.calls()) {
      gap_.call_starts();
      sink_.begin(next_index_, call.name);
      sink_.arguments(next_index_, call.arguments);
      sink_.end(next_index_++);
      gap_.call_ended();
    }
  }

  // After a list: whitespace, then <|python_end|> (dropped) or text.
  bool after_list() {
    std::string_view text = rest();
    const size_t space = skip_json_space(text);
    content(text.substr(0, space));
    text.remove_prefix(space);
    if (text.empty()) return false;
    Lookahead end = starts_with_token(text, kPythonEnd);
    if (end == Lookahead::kNeedMore) return false;
    if (end == Lookahead::kYes) pos_ += kPythonEnd.size();
    at_boundary_ = true;
    state_ = State::kText;
    return true;
  }

  void at_end() override {
    if (state_ == State::kList) {
      reader_.finish();
      if (reader_.calls().empty()) {
        give_back_raw(rest());
      } else {
        emit_calls();
        if (reader_.in_call_name())
          gap_.text(std::string_view(raw_).substr(markup_len_ + reader_.pending_call_offset()),
                    sink_);
        raw_.clear();
      }
    } else {
      gap_.text(rest(), sink_);  // a partial marker is text after all
    }
    state_ = State::kText;
  }

  State state_ = State::kText;
  bool at_boundary_ = true;  // a '[' here may start a list (not a subscript)
  PythonCallListReader reader_;
  size_t opening_len_ = 0;
  size_t markup_len_ = 0;
};

class PythonicFormat : public ToolFormat {
 public:
  explicit PythonicFormat(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<PythonicParser>();
  }
  std::vector<std::string> markers() const override {
    return {std::string(kPythonStart), std::string(kPythonEnd)};
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    return pythonic_calls_grammar(tools, only, min_calls, max_calls);
  }

 private:
  std::string name_;
};

}  // namespace

std::unique_ptr<ToolFormat> make_pythonic_format() {
  return std::make_unique<PythonicFormat>("pythonic");
}

std::unique_ptr<ToolFormat> make_llama4_pythonic_format() {
  return std::make_unique<PythonicFormat>("llama4_pythonic");
}

}  // namespace sluice::parsers
