// gpt-oss "harmony" output: messages, each a header (harmony_header.h) and a body. The prompt ends
// with "<|start|>assistant", so the output reads, e.g.:
//   <|channel|>analysis<|message|>THINKING<|end|><|start|>assistant<|channel|>final<|message|>ANSWER
//   <|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a": 1}<|call|>
// A body is, by its header: a tool call when the recipient is one (arguments: the body,
// whitespace-trimmed; empty: "{}"); reasoning on the analysis channel; content on any other
// channel (final, a commentary preamble, an unknown one) or none. <|end|>, <|call|> and <|return|>
// end a body (the last two end generation, so they rarely reach the text); <|start|> ends it and
// starts the next header. Text where a header should begin but none does is content. A header
// cut by the end of output is markup and dropped, unless its recipient is complete: then it is a
// call with "{}" arguments. A header that meets another marker or grows past 256 bytes is content,
// markup included. Every marker is a special token: the API must decode them (markers()).
#include "parsers/buffered_tool_parser.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/harmony_header.h"
#include "parsers/text_scan.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

// Index 3 (<|start|>) also starts the next header.
constexpr std::string_view kBodyEnds[] = {kHarmonyEnd, kHarmonyCall, kHarmonyReturn, kHarmonyStart};
// Index 0 (<|message|>) completes the header; the others make it malformed.
constexpr std::string_view kHeaderEnds[] = {kHarmonyMessage, kHarmonyEnd, kHarmonyCall,
                                            kHarmonyReturn, kHarmonyStart};
// How a header without a role (the output's first) can begin.
constexpr std::string_view kFirstHeader[] = {kHarmonyChannel, kHarmonyMessage, kHarmonyConstrain,
                                             " to="};
constexpr size_t kMaxHarmonyHeader = 256;
constexpr std::string_view kAnalysisOpen = "<|channel|>analysis<|message|>";
constexpr std::string_view kNextAssistant = "<|start|>assistant";

class HarmonyParser : public BufferedToolParser {
 private:
  enum class State { kFirst, kHeader, kBody, kBetween, kText };
  enum class Body { kReasoning, kContent, kCall };

  void run() override {
    bool more = true;
    while (more && pos_ < buf_.size()) {
      switch (state_) {
        case State::kFirst:
          more = header_begins(kFirstHeader, {});
          break;
        case State::kBetween: {
          constexpr std::string_view kNext[] = {kHarmonyStart, kHarmonyChannel};
          more = header_begins(kNext, kHarmonyStart);
          break;
        }
        case State::kHeader:
          more = read_header();
          break;
        case State::kBody:
          more = read_body();
          break;
        case State::kText:
          more = read_text();
          break;
      }
    }
  }

  // Whether rest() begins a header with one of `starts`; `consumed` is the one (<|start|>) the
  // header's text does not include. False: more bytes needed.
  bool header_begins(Markers starts, std::string_view consumed) {
    bool need_more = false;
    for (std::string_view m : starts) {
      Lookahead la = starts_with_token(rest(), m);
      if (la == Lookahead::kYes) {
        const bool role_given = m != consumed;
        if (!role_given) pos_ += m.size();
        start_header(role_given, role_given ? "" : m);
        return true;
      }
      need_more |= la == Lookahead::kNeedMore;
    }
    if (need_more) return false;
    state_ = State::kText;
    return true;
  }

  void start_header(bool role_given, std::string_view raw) {
    state_ = State::kHeader;
    role_given_ = role_given;
    header_.clear();
    raw_.assign(raw);
  }

  bool read_header() {
    std::string_view text = rest();
    MarkerHit hit = find_marker(text, kHeaderEnds);
    const size_t take = hit.found() ? hit.pos : text.size() - partial_marker_len(text, kHeaderEnds);
    header_.append(text.substr(0, take));
    pos_ += take;
    if (!calling_)
      if (auto r = complete_recipient(header_))
        if (auto f = called_function(*r)) begin_call(*f);
    if (header_.size() > kMaxHarmonyHeader || (hit.found() && hit.which != 0)) {
      malformed_header();  // a marker that ends it stays in rest() for kText
      return true;
    }
    if (!hit.found()) return false;
    pos_ += kHarmonyMessage.size();
    open_body(parse_harmony_header(header_, role_given_));
    return true;
  }

  void malformed_header() {
    if (calling_)
      end_call();
    else
      give_back_raw(header_);
    header_.clear();
    state_ = State::kText;
  }

  void open_body(const HarmonyHeader& h) {
    if (!calling_)
      if (auto f = called_function(h.recipient)) begin_call(*f);
    body_ = calling_ ? Body::kCall : h.channel == "analysis" ? Body::kReasoning : Body::kContent;
    header_.clear();
    raw_.clear();
    state_ = State::kBody;
  }

  bool read_body() {
    std::string_view text = rest();
    MarkerHit hit = find_marker(text, kBodyEnds);
    const size_t take = hit.found() ? hit.pos : text.size() - partial_marker_len(text, kBodyEnds);
    body_text(text.substr(0, take));
    pos_ += take;
    if (!hit.found()) return false;
    pos_ += kBodyEnds[hit.which].size();
    if (calling_) end_call();
    if (kBodyEnds[hit.which] == kHarmonyStart)
      start_header(false, kHarmonyStart);
    else
      state_ = State::kBetween;
    return true;
  }

  bool read_text() {
    MarkerHit hit = pass_to_marker(kBodyEnds);
    if (!hit.found()) return false;
    if (kBodyEnds[hit.which] == kHarmonyStart)
      start_header(false, kHarmonyStart);
    else
      state_ = State::kBetween;
    return true;
  }

  void body_text(std::string_view s) {
    if (body_ == Body::kReasoning) return sink_.reasoning(s);
    if (body_ == Body::kContent) return gap_.text(s, sink_);
    if (!args_seen_) s.remove_prefix(skip_json_space(s));
    size_t end = s.size();
    while (end > 0 && is_json_space(s[end - 1])) --end;
    if (end == 0) {  // whitespace only: trailing, unless more arguments follow
      if (args_seen_) args_space_.append(s);
      return;
    }
    sink_.arguments(next_index_, args_space_);
    sink_.arguments(next_index_, s.substr(0, end));
    args_space_.assign(s.substr(end));
    args_seen_ = true;
  }

  void begin_call(const std::string& name) {
    gap_.call_starts();
    sink_.begin(next_index_, name);
    calling_ = true;
    args_seen_ = false;
    args_space_.clear();
  }

  void end_call() {
    if (!args_seen_) sink_.arguments(next_index_, "{}");
    sink_.end(next_index_++);
    gap_.call_ended();
    calling_ = false;
  }

  void at_end() override {
    switch (state_) {
      case State::kFirst:
      case State::kBetween:
      case State::kText:
        gap_.text(rest(), sink_);  // a partial marker is text after all
        break;
      case State::kHeader:  // cut: markup, dropped; a call whose name is complete ends
        if (calling_) end_call();
        break;
      case State::kBody:
        body_text(rest());
        if (calling_) end_call();
        break;
    }
  }

  State state_ = State::kFirst;
  Body body_ = Body::kContent;
  bool role_given_ = true;
  std::string header_;      // the header's text so far (without a leading <|start|>)
  bool calling_ = false;    // a call began (its header named a recipient) and has not ended
  bool args_seen_ = false;  // the call's arguments have a non-space byte
  std::string args_space_;  // trailing whitespace of the arguments, held
};

class HarmonyFormat : public ToolFormat {
 public:
  std::string name() const override { return "harmony"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<HarmonyParser>();
  }
  std::vector<std::string> markers() const override {
    std::vector<std::string> out;
    for (std::string_view m : {kHarmonyStart, kHarmonyChannel, kHarmonyConstrain, kHarmonyMessage,
                               kHarmonyEnd, kHarmonyCall, kHarmonyReturn})
      out.emplace_back(m);
    return out;
  }
  std::optional<ReasoningSection> reasoning_section() const override {
    return ReasoningSection{std::string(kAnalysisOpen), std::string(kHarmonyEnd),
                            std::string(kNextAssistant) + "<|channel|>final<|message|>"};
  }
  // One call per output (<|call|> ends generation), after an optional analysis message whose
  // body and <|end|> the engine leaves unconstrained (reasoning_section()):
  //   [<|channel|>analysis<|message|>...<|end|><|start|>assistant]
  //   <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>ARGS
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int) const override {
    using namespace structured;
    if (min_calls != 1)
      return Status::error("tool_grammar", "harmony output holds exactly one call");
    SLUICE_ASSIGN_OR_RETURN(
        NodePtr call, function_choice(tools, only, [](const Json& fn, NodePtr args) {
          return sequence({literal("<|channel|>commentary to=functions." + function_name(fn) +
                                   " <|constrain|>json<|message|>"),
                           args});
        }));
    return after_analysis(call);
  }
  // [analysis] <|channel|>final<|message|>ANSWER
  structured::NodePtr answer_grammar(structured::NodePtr answer) const override {
    using namespace structured;
    return after_analysis(sequence({literal("<|channel|>final<|message|>"), answer}));
  }

 private:
  static structured::NodePtr after_analysis(structured::NodePtr message) {
    using namespace structured;
    return choice(
        {sequence({literal(std::string(kAnalysisOpen) + std::string(kNextAssistant)), message}),
         message});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_harmony_format() {
  return std::make_unique<HarmonyFormat>();
}

}  // namespace sluice::parsers
