// DeepSeek tool calls, both generations (reasoning is the <think> section, parsed before this):
//   V3 / R1:  text<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n
//             {...}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>...<｜tool▁calls▁end｜>
//   V3.1: text<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>
//             ...<｜tool▁calls▁end｜>
// Either parser reads both forms; the grammar writes its generation's. The markers are special
// tokens: the API must decode them (markers()).
#include "parsers/calls_grammar_util.h"
#include "parsers/delimited_call_parser.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";

class DeepSeekParser : public DelimitedCallParser {
 public:
  DeepSeekParser()
      : DelimitedCallParser({.section_open = kCallsBegin,
                             .section_close = kCallsEnd,
                             .call_open = kCallBegin,
                             .header_end = kSep,
                             .call_close = kCallEnd,
                             .name_line = true}) {}

 private:
  std::optional<std::string> call_name(std::string_view header) const override {
    return std::string(header);
  }
};

class DeepSeekFormat : public ToolFormat {
 public:
  explicit DeepSeekFormat(bool v31) : v31_(v31) {}
  std::string name() const override { return v31_ ? "deepseek_v31" : "deepseek_v3"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<DeepSeekParser>();
  }
  std::vector<std::string> markers() const override {
    return {std::string(kCallsBegin), std::string(kCallsEnd), std::string(kCallBegin),
            std::string(kSep), std::string(kCallEnd)};
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    const std::string begin(kCallBegin), sep(kSep), end(kCallEnd);
    SLUICE_ASSIGN_OR_RETURN(
        NodePtr call, function_choice(tools, only, [&](const Json& fn, NodePtr args) {
          const std::string name = function_name(fn);
          if (v31_) return sequence({literal(begin + name + sep), args, literal(end)});
          return sequence({literal(begin + "function" + sep + name + "\n```json\n"), args,
                           literal("\n```" + end)});
        }));
    SLUICE_ASSIGN_OR_RETURN(NodePtr calls, separated(call, v31_ ? "" : "\n", min_calls, max_calls));
    return sequence({literal(std::string(kCallsBegin)), calls, literal(std::string(kCallsEnd))});
  }

 private:
  bool v31_;
};

}  // namespace

std::unique_ptr<ToolFormat> make_deepseek_v3_format() {
  return std::make_unique<DeepSeekFormat>(/*v31=*/false);
}

std::unique_ptr<ToolFormat> make_deepseek_v31_format() {
  return std::make_unique<DeepSeekFormat>(/*v31=*/true);
}

}  // namespace sluice::parsers
