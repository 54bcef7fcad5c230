// MiniMax M2 tool calls (reasoning is the <think> section, parsed before this):
//   text\n<minimax:tool_call>\n<invoke name="NAME">\n<parameter name="K">V</parameter>\n...
//   </invoke>\n<invoke ...>...</invoke>\n</minimax:tool_call>
// Values are typed by the tool's schema (the template writes strings as they are, the others
// as JSON).
#include "parsers/tool_formats.h"
#include "parsers/xml_param_call_parser.h"
#include "parsers/xml_param_grammar.h"

namespace sluice::parsers {
namespace {

class MiniMaxM2Format : public ToolFormat {
 public:
  std::string name() const override { return "minimax_m2"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec& tools) const override {
    return std::make_unique<XmlParamCallParser>(
        tools, XmlCallMarkup{.section_open = "<minimax:tool_call>",
                             .section_close = "</minimax:tool_call>",
                             .call_open = "<invoke name=",
                             .name_stops = ">",
                             .param_open = "<parameter name=",
                             .key_close = ">",
                             .value_close = "</parameter>",
                             .call_close = "</invoke>"});
  }
  // Special tokens in MiniMax's vocabulary: the API must decode them.
  std::vector<std::string> markers() const override {
    return {"<minimax:tool_call>", "</minimax:tool_call>"};
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    return xml_param_calls_grammar(tools, only, min_calls, max_calls,
                                   {.section_open = "<minimax:tool_call>\n",
                                    .section_close = "</minimax:tool_call>",
                                    .call_open = "<invoke name=\"",
                                    .name_close = "\">\n",
                                    .call_close = "</invoke>\n",
                                    .key_open = "<parameter name=\"",
                                    .key_close = "\">",
                                    .value_close = "</parameter>\n"});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_minimax_m2_format() {
  return std::make_unique<MiniMaxM2Format>();
}

}  // namespace sluice::parsers
