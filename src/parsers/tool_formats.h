#pragma once
// The tool-call formats, one file each (make_tool_format() picks by name).
#include <memory>

#include "parsers/tool_parser.h"

namespace sluice::parsers {

std::unique_ptr<ToolFormat> make_hermes_format();
std::unique_ptr<ToolFormat> make_qwen3_coder_format();
std::unique_ptr<ToolFormat> make_llama3_json_format();
std::unique_ptr<ToolFormat> make_mistral_format();
std::unique_ptr<ToolFormat> make_json_format();
std::unique_ptr<ToolFormat> make_harmony_format();
std::unique_ptr<ToolFormat> make_deepseek_v3_format();
std::unique_ptr<ToolFormat> make_deepseek_v31_format();
std::unique_ptr<ToolFormat> make_kimi_k2_format();
std::unique_ptr<ToolFormat> make_glm45_format();
std::unique_ptr<ToolFormat> make_minimax_m2_format();
std::unique_ptr<ToolFormat> make_granite_format();
std::unique_ptr<ToolFormat> make_functionary_v3_format();
std::unique_ptr<ToolFormat> make_gemma4_format();
std::unique_ptr<ToolFormat> make_pythonic_format();
std::unique_ptr<ToolFormat> make_llama4_pythonic_format();

}  // namespace sluice::parsers
