// Qwen3-Coder XML tool calls: recorded Qwen3-tokenized outputs, the split property, typing of
// parameter values from the tool schema, and the arguments JSON built.
#include <gtest/gtest.h>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

ToolSpec coder_tools() {
  ToolSpec spec;
  spec.functions = nlohmann::ordered_json::parse(R"([
    {"type": "function", "function": {"name": "write_file",
     "parameters": {"type": "object",
                    "properties": {"path": {"type": "string"}, "content": {"type": "string"},
                                   "mode": {"type": "integer"}, "append": {"type": "boolean"},
                                   "meta": {"type": "object"}, "tags": {"type": "array"},
                                   "note": {"type": ["string", "null"]},
                                   "ratio": {"type": ["number", "null"]}},
                    "required": ["path", "content"]}}},
    {"type": "function", "function": {"name": "run", "parameters": {"type": "object",
     "properties": {"cmd": {"type": "string"}, "timeout": {"type": "number"}}}}}
  ])");
  return spec;
}

std::vector<ToolCase> coder_cases() {
  return {
      {"content_and_one_call",
       "I'll create the file.\n\n<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/"
       "main.py\n</parameter>\n<parameter=content>\ndef main():\n    print(\"héllo 🌍\\n\")\n\n"
       "if __name__ == \"__main__\":\n    main()\n</parameter>\n</function>\n</tool_call>",
       "I'll create the file.",
       {{"write_file",
         R"x({"path": "src/main.py", "content": "def main():\n    print(\"héllo 🌍\\n\")\n\nif __name__ == \"__main__\":\n    main()"})x"}}},
      {"typed_parameters",
       "<tool_call>\n<function=write_file>\n<parameter=path>\na.json\n</parameter>\n"
       "<parameter=content>\n{\"k\": 1}\n</parameter>\n<parameter=mode>\n0644\n</parameter>\n"
       "<parameter=append>\nTrue\n</parameter>\n<parameter=meta>\n{\"owner\": \"me\", \"n\": "
       "[1, 2]}\n</parameter>\n<parameter=tags>\n[\"a\", \"b\"]\n</parameter>\n<parameter=note>\n"
       "null\n</parameter>\n<parameter=ratio>\n0.5\n</parameter>\n</function>\n</tool_call>",
       "",
       {{"write_file",
         R"({"path": "a.json", "content": "{\"k\": 1}", "mode": "0644", "append": true, "meta": {"n":[1,2],"owner":"me"}, "tags": ["a","b"], "note": "null", "ratio": 0.5})"}}},
      {"parallel_calls",
       "<tool_call>\n<function=run>\n<parameter=cmd>\nls -la\n</parameter>\n<parameter=timeout>"
       "\n30\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=run>\n"
       "<parameter=cmd>\necho '</tool_call>' && echo '<parameter=x>'\n</parameter>\n</function>\n"
       "</tool_call>",
       "",
       {{"run", R"({"cmd": "ls -la", "timeout": 30})"},
        {"run", R"({"cmd": "echo '</tool_call>' && echo '<parameter=x>'"})"}}},
      {"unknown_tool_and_parameter",
       "<tool_call>\n<function=deploy>\n<parameter=target>\n42\n</parameter>\n</function>\n"
       "</tool_call>",
       "",
       {{"deploy", R"({"target": "42"})"}}},
      {"no_parameters",
       "<tool_call>\n<function=run>\n</function>\n</tool_call>",
       "",
       {{"run", "{}"}}},
      {"bad_number_kept_as_string",
       "<tool_call>\n<function=run>\n<parameter=timeout>\nforever\n</parameter>\n</function>\n"
       "</tool_call>",
       "",
       {{"run", R"({"timeout": "forever"})"}}},
      {"no_call",
       "Use <function> tags in HTML? No, <tool> is not a tag either.",
       "Use <function> tags in HTML? No, <tool> is not a tag either.",
       {}},
      {"hermes_json_in_block_is_content",
       "<tool_call>\n{\"name\": \"run\"}\n</tool_call>",
       "<tool_call>\n{\"name\": \"run\"}\n</tool_call>",
       {}},
      {"unterminated_in_value",
       "<tool_call>\n<function=run>\n<parameter=cmd>\nmake -j\n</para",
       "",
       {{"run", R"({"cmd": "make -j\n</para"})"}}},
      {"unterminated_before_name", "<tool_call>\n<function=ru", "<tool_call>\n<function=ru", {}},
      {"multiline_value_keeps_inner_newlines",
       "<tool_call>\n<function=run>\n<parameter=cmd>\n\nline1\n\nline2\n\n</parameter>\n"
       "</function>\n</tool_call>",
       "",
       {{"run", R"({"cmd": "\nline1\n\nline2\n"})"}}},
  };
}

class Qwen3CoderTest : public ::testing::TestWithParam<ToolCase> {};

TEST_P(Qwen3CoderTest, EverySplitGivesTheExpectedParse) {
  check_tool_case("qwen3_coder", "qwen3", coder_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Recorded, Qwen3CoderTest, ::testing::ValuesIn(coder_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Qwen3Coder, ArgumentsAreValidJson) {
  auto format = make_tool_format("qwen3_coder");
  for (const ToolCase& c : coder_cases()) {
    auto parser = format->make_parser(coder_tools());
    for (const ToolCall& call : parse_all(*parser, c.text).calls) {
      EXPECT_FALSE(nlohmann::json::parse(call.arguments, nullptr, false).is_discarded())
          << c.name << ": " << call.arguments;
    }
  }
}

TEST(Qwen3Coder, StringValuesStreamBeforeTheirEnd) {
  auto parser = make_tool_format("qwen3_coder")->make_parser(coder_tools());
  std::vector<ParseEvent> events;
  parser->feed("<tool_call>\n<function=run>\n<parameter=cmd>\nls -la /tm", events);
  std::string args;
  for (const ParseEvent& e : events) args += e.text;
  EXPECT_EQ(args, R"({"cmd": "ls -la /tm)");
}

}  // namespace
}  // namespace sluice::parsers::testing
