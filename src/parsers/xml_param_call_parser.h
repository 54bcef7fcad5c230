#pragma once
// Calls written as XML-like markup with one element per parameter (GLM 4.5/4.6, MiniMax M2):
//   text [section_open] call_open NAME <param_open KEY key_close [value_open] VALUE value_close
//   ... call_close ... [section_close] text
// The arguments become the JSON object {"KEY": value, ...} in the order written, each value
// typed by the tool's schema as Qwen3-Coder's are (typed_param_value): string values stream as
// they arrive. NAME and KEY may be quoted. A block that breaks before its name is content.
#include <string>
#include <string_view>

#include "parsers/buffered_tool_parser.h"
#include "parsers/qwen3_coder_grammar.h"

namespace sluice::parsers {

struct XmlCallMarkup {
  std::string_view section_open, section_close;  // empty: calls stand alone
  std::string_view call_open;
  std::string_view name_stops;  // bytes that end the name ('<' is left for the markup after)
  std::string_view param_open, key_close;
  std::string_view value_open;  // empty: the value starts right after key_close
  std::string_view value_close, call_close;
};

class XmlParamCallParser : public BufferedToolParser {
 public:
  XmlParamCallParser(const ToolSpec& tools, XmlCallMarkup markup) : tools_(tools), m_(markup) {}

 private:
  enum class State { kText, kSection, kName, kBody, kKey, kValueOpen, kValue, kAfterCall };

  void run() override;
  void at_end() override;
  bool step(std::string_view text);  // false: more bytes needed
  bool read_name(std::string_view text);
  bool read_key(std::string_view text);
  bool read_value(std::string_view text);
  void begin_param();
  void value_piece(std::string_view piece);
  void end_param();
  void end_call();
  void give_back_as_content(std::string_view more = {});

  ToolSpec tools_;
  XmlCallMarkup m_;
  State state_ = State::kText;
  std::string name_, key_;
  const Json* function_ = nullptr;
  int num_params_ = 0;
  ParamKind kind_ = ParamKind::kString;
  std::string value_;  // a non-string value, converted at its end
};

}  // namespace sluice::parsers
