#pragma once
// Calls grammar of the XML-parameter formats (GLM, MiniMax): per call
//   call_open NAME name_close (key_open KEY key_close VALUE value_close)* call_close
// declared parameters in schema order (required ones mandatory); string values are free text,
// the others follow their schema. A function that declares no properties takes any parameters
// with text values.
#include <optional>
#include <string>

#include "parsers/tool_spec_util.h"
#include "structured/grammar.h"

namespace sluice::parsers {

struct XmlGrammarMarkup {
  std::string section_open, section_close;  // around all calls (may be empty)
  std::string separator;                    // between calls
  std::string call_open, name_close, call_close;
  std::string key_open, key_close, value_close;  // value_close includes what follows it
};

Result<structured::NodePtr> xml_param_calls_grammar(const ToolSpec& tools,
                                                    const std::optional<std::string>& only,
                                                    int min_calls, int max_calls,
                                                    const XmlGrammarMarkup& m);

}  // namespace sluice::parsers
