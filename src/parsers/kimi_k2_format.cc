// Kimi K2 tool calls (the ids name the function: functions.NAME:INDEX):
//   text<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0
//   <|tool_call_argument_begin|>{...}<|tool_call_end|><|tool_call_begin|>...
//   <|tool_calls_section_end|>
// A header without the "functions." prefix or the ":INDEX" suffix is the name as it stands. The
// markers are special tokens: the API must decode them (markers()).
#include <cctype>

#include "parsers/calls_grammar_util.h"
#include "parsers/delimited_call_parser.h"
#include "parsers/tool_formats.h"

namespace sluice::parsers {
namespace {

constexpr std::string_view kSectionBegin = "<|tool_calls_section_begin|>";
constexpr std::string_view kSectionEnd = "<|tool_calls_section_end|>";
constexpr std::string_view kCallBegin = "<|tool_call_begin|>";
constexpr std::string_view kArgBegin = "<|tool_call_argument_begin|>";
constexpr std::string_view kCallEnd = "<|tool_call_end|>";
constexpr std::string_view kPrefix = "functions.";

class KimiK2Parser : public DelimitedCallParser {
 public:
  KimiK2Parser()
      : DelimitedCallParser({.section_open = kSectionBegin,
                             .section_close = kSectionEnd,
                             .call_open = kCallBegin,
                             .header_end = kArgBegin,
                             .call_close = kCallEnd}) {}

 private:
  std::optional<std::string> call_name(std::string_view header) const override {
    if (header.starts_with(kPrefix)) header.remove_prefix(kPrefix.size());
    size_t colon = header.rfind(':');
    if (colon != std::string_view::npos && colon + 1 < header.size()) {
      bool digits = true;
      for (char c : header.substr(colon + 1)) digits &= std::isdigit(static_cast<unsigned char>(c));
      if (digits) header = header.substr(0, colon);
    }
    return std::string(header);
  }
};

class KimiK2Format : public ToolFormat {
 public:
  std::string name() const override { return "kimi_k2"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec&) const override {
    return std::make_unique<KimiK2Parser>();
  }
  std::vector<std::string> markers() const override {
    return {std::string(kSectionBegin), std::string(kSectionEnd), std::string(kCallBegin),
            std::string(kArgBegin), std::string(kCallEnd)};
  }
  // The index after the name is the call's number in the conversation: any small number.
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    using namespace structured;
    std::vector<NodePtr> digits;
    for (char d = '0'; d <= '9'; ++d) digits.push_back(literal(std::string(1, d)));
    NodePtr index = repeat(choice(std::move(digits)), 1, 4);
    SLUICE_ASSIGN_OR_RETURN(
        NodePtr call, function_choice(tools, only, [&](const Json& fn, NodePtr args) {
          return sequence(
              {literal(std::string(kCallBegin) + std::string(kPrefix) + function_name(fn) + ":"),
               index, literal(std::string(kArgBegin)), args, literal(std::string(kCallEnd))});
        }));
    SLUICE_ASSIGN_OR_RETURN(NodePtr calls, separated(call, "", min_calls, max_calls));
    return sequence(
        {literal(std::string(kSectionBegin)), calls, literal(std::string(kSectionEnd))});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_kimi_k2_format() {
  return std::make_unique<KimiK2Format>();
}

}  // namespace sluice::parsers
