// GLM 4.5 / 4.6 tool calls (reasoning is the <think> section, parsed before this):
//   text\n<tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n...</tool_call>
// Values are typed by the tool's schema (the template writes strings as they are, the others
// as JSON). Checked before hermes: both open with <tool_call>.
#include "parsers/tool_formats.h"
#include "parsers/xml_param_call_parser.h"
#include "parsers/xml_param_grammar.h"

namespace sluice::parsers {
namespace {

class Glm45Format : public ToolFormat {
 public:
  std::string name() const override { return "glm45"; }
  std::unique_ptr<ToolParser> make_parser(const ToolSpec& tools) const override {
    return std::make_unique<XmlParamCallParser>(tools, XmlCallMarkup{.call_open = "<tool_call>",
                                                                     .name_stops = "\n<",
                                                                     .param_open = "<arg_key>",
                                                                     .key_close = "</arg_key>",
                                                                     .value_open = "<arg_value>",
                                                                     .value_close = "</arg_value>",
                                                                     .call_close = "</tool_call>"});
  }
  // Special tokens in GLM's vocabulary: the API must decode them.
  std::vector<std::string> markers() const override {
    return {"<tool_call>", "</tool_call>", "<arg_key>",
            "</arg_key>",  "<arg_value>",  "</arg_value>"};
  }
  Result<structured::NodePtr> calls_grammar(const ToolSpec& tools,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) const override {
    return xml_param_calls_grammar(tools, only, min_calls, max_calls,
                                   {.separator = "\n",
                                    .call_open = "<tool_call>",
                                    .name_close = "\n",
                                    .call_close = "</tool_call>",
                                    .key_open = "<arg_key>",
                                    .key_close = "</arg_key>\n<arg_value>",
                                    .value_close = "</arg_value>\n"});
  }
};

}  // namespace

std::unique_ptr<ToolFormat> make_glm45_format() {
  return std::make_unique<Glm45Format>();
}

}  // namespace sluice::parsers
