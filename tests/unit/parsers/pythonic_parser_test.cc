// Pythonic tool calls: recorded-style outputs parse the same whole and split at every token and
// byte; literals convert to JSON; malformed lists stay content; the calls grammar accepts what
// pythonic_calls_text writes; a turn rendered in the Llama 3.2 pythonic prompt format parses back.
#include <gtest/gtest.h>

#include "parsers/python_call_list.h"
#include "parsers/pythonic_grammar.h"
#include "structured/grammar_matcher.h"
#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

class PythonicCases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(PythonicCases, Parses) {
  check_tool_case("pythonic", "llama3_2", weather_and_search_tools(), GetParam());
}

const char* kNested =
    R"([search(query="q", filters={"lang": "fr", 'tags': ["a", ('b', 2), ()], "n": -1.5e3,)"
    R"( "ok": True, "none": None, 1: 0x1F, "e": {}}, max_results=1_000)])";
const char* kEscapes = R"([search(query='it\'s \"q\"\n\t\\ \x41\u00e9\U0001F600 \101 \d \/')])";

INSTANTIATE_TEST_SUITE_P(
    Cases, PythonicCases,
    ::testing::Values(
        ToolCase{
            "two_calls",
            R"([get_weather(city="San Francisco", unit="celsius"), get_time()])",
            "",
            {{"get_weather", R"({"city":"San Francisco","unit":"celsius"})"}, {"get_time", "{}"}}},
        ToolCase{"python_start_and_end",
                 "<|python_start|> [search(query='x', safe=False)]<|python_end|>",
                 "",
                 {{"search", R"({"query":"x","safe":false})"}}},
        ToolCase{"content_before",
                 "Let me check.\n[get_weather(city=\"Paris\")]",
                 "Let me check.",
                 {{"get_weather", R"({"city":"Paris"})"}}},
        ToolCase{"content_after", "[ping()] done", " done", {{"ping", "{}"}}},
        ToolCase{
            "nested_literals",
            kNested,
            "",
            {{"search", R"({"query":"q","filters":{"lang":"fr","tags":["a",["b",2],[]],"n":-1.5e3,)"
                        R"("ok":true,"none":null,"1":31,"e":{}},"max_results":1000})"}}},
        ToolCase{
            "escapes", kEscapes, "", {{"search", R"({"query":"it's \"q\"\n\t\\ Aé😀 A \\d \\/"})"}}},
        ToolCase{"triple_quotes",
                 "[search(query=\"\"\"line 1\nline \"2\" \"\"\", max_results=2)]",
                 "",
                 {{"search", R"({"query":"line 1\nline \"2\" ","max_results":2})"}}},
        ToolCase{"unicode",
                 "天气: [search(query=\"天气 ünï 😀\")]",
                 "天气:",
                 {{"search", R"({"query":"天气 ünï 😀"})"}}},
        ToolCase{"numbers",
                 "[f(a=.5, b=1., c=-0, d=+3, e=0o17, f=0b101, g=1e-3, h=1_0.2_5E+2)]",
                 "",
                 {{"f", R"({"a":0.5,"b":1.0,"c":-0,"d":3,"e":15,"f":5,"g":1e-3,"h":10.25e+2})"}}},
        ToolCase{"whitespace_and_trailing_commas",
                 "[\n  get_weather(\n    city = 'Paris' ,\n  ) ,\n]",
                 "",
                 {{"get_weather", R"({"city":"Paris"})"}}},
        ToolCase{"two_lists", "[ping()]\n[get_time()]", "", {{"ping", "{}"}, {"get_time", "{}"}}},
        ToolCase{"rescanned_after_a_broken_list", "[note [ping()]", "[note", {{"ping", "{}"}}},
        ToolCase{"not_a_list", "[1, 2] and [a](b) and []", "[1, 2] and [a](b) and []", {}},
        ToolCase{"positional_argument", "[f(x)]", "[f(x)]", {}},
        ToolCase{"name_as_value", "[f(a=b)]", "[f(a=b)]", {}},
        ToolCase{"call_as_value", "[f(a=g())]", "[f(a=g())]", {}},
        ToolCase{"repeated_keyword", "[f(a=1, a=2)]", "[f(a=1, a=2)]", {}},
        ToolCase{"missing_comma", "[f(a=1) g()]", "[f(a=1) g()]", {}},
        ToolCase{"leading_zero", "[f(a=007)]", "[f(a=007)]", {}},
        ToolCase{"string_prefix", "[f(a=r'x')]", "[f(a=r'x')]", {}},
        ToolCase{"newline_in_string", "[f(a='x\ny')]", "[f(a='x\ny')]", {}},
        ToolCase{"subscript_is_content", "x[f(a=1)] d[g()]", "x[f(a=1)] d[g()]", {}},
        ToolCase{"python_start_then_code",
                 "<|python_start|>print(1)<|python_end|>",
                 "<|python_start|>print(1)<|python_end|>",
                 {}},
        ToolCase{"partial_marker_is_content", "a <|python_sta", "a <|python_sta", {}},
        ToolCase{"cut_in_string", "[search(query=\"wea", "", {{"search", R"({"query":"wea)"}}},
        ToolCase{
            "cut_in_number", "[search(max_results=12", "", {{"search", R"({"max_results":12)"}}},
        ToolCase{"cut_in_second_name", "[ping(), get_wea", "get_wea", {{"ping", "{}"}}},
        ToolCase{"cut_before_a_name", "ok [get_wea", "ok [get_wea", {}}),
    [](const auto& info) { return info.param.name; });

std::string python_call_args(std::string_view text) {
  PythonCallListReader reader;
  size_t n = reader.feed(text);
  EXPECT_EQ(n, text.size());
  EXPECT_EQ(reader.state(), PythonCallListReader::State::kDone) << text;
  return reader.calls().empty() ? "" : reader.calls()[0].arguments;
}

TEST(PythonCallList, StopsAfterTheListAndAtTheBadByte) {
  PythonCallListReader reader;
  EXPECT_EQ(reader.feed("[f(a=1)] rest"), 8u);
  EXPECT_EQ(reader.state(), PythonCallListReader::State::kDone);
  PythonCallListReader bad;
  EXPECT_EQ(bad.feed("[f(a=b)]"), 6u);
  EXPECT_EQ(bad.state(), PythonCallListReader::State::kFailed);
}

TEST(PythonCallList, Literals) {
  EXPECT_EQ(python_call_args(R"([f(a="", b='', c="""""", d='"', e="'")])"),
            R"({"a":"","b":"","c":"","d":"\"","e":"'"})");
  EXPECT_EQ(python_call_args("[f(a='''x''y''')]"), R"({"a":"x''y"})");
  EXPECT_EQ(python_call_args(R"([f(a="\0\x00\7")])"), R"({"a":"\u0000\u0000\u0007"})");
  EXPECT_EQ(python_call_args("[f(a=(1,), b=[1, [2, (3, {})]])]"),
            R"({"a":[1],"b":[1,[2,[3,{}]]]})");
  EXPECT_EQ(python_call_args("[f(a={True: 1, 2.5: None})]"), R"({"a":{"true":1,"2.5":null}})");
}

TEST(PythonCallList, Scalars) {
  EXPECT_EQ(python_scalar_json("0"), "0");
  EXPECT_EQ(python_scalar_json("00"), "0");
  EXPECT_EQ(python_scalar_json("0xff"), "255");
  EXPECT_EQ(python_scalar_json("-0B11"), "-3");
  EXPECT_EQ(python_scalar_json("007.50"), "7.50");
  EXPECT_EQ(python_scalar_json("5e3"), "5e3");
  for (const char* bad : {"1__0", "_1", "1_", "0x", "1j", "inf", "nan", "true", "null", "1e",
                          "1.2.3", "--1", "0o8", "x"})
    EXPECT_EQ(python_scalar_json(bad), "") << bad;
}

// Whether the calls grammar accepts all of text and can end there.
bool grammar_accepts(const ToolSpec& tools, const std::string& text) {
  static auto vocab = structured::TokenVocab::build(tokenizer("qwen3"));
  auto node = pythonic_calls_grammar(tools, std::nullopt, 1, -1);
  EXPECT_TRUE(node.ok()) << node.error();
  auto grammar = structured::compile(*node);
  EXPECT_TRUE(grammar.ok()) << grammar.error();
  structured::GrammarMatcher m(*grammar, vocab);
  EncodeOptions opts;
  opts.parse_special = true;
  for (int32_t id : tokenizer("qwen3").encode(text, opts))
    if (!m.accept(id)) return false;
  return m.can_finish();
}

TEST(PythonicGrammar, AcceptsWhatTheRendererWritesAndParsesBack) {
  const Json weather = Json::parse(R"({"city": "Paris \"Île\"\n", "unit": "fahrenheit"})");
  const Json search = Json::parse(R"J({"query": "ünï [x] (y)", "max_results": 3, "safe": true,
      "filters": {"lang": "fr", "tags": ["a", "b"], "n": -1.5, "none": null, "o": {"k": []}}})J");
  const std::string text = pythonic_calls_text({{"get_weather", weather}, {"search", search}});
  EXPECT_TRUE(text.starts_with(R"([get_weather(city="Paris \"Île\"\n", unit="fahrenheit"), )"))
      << text;
  EXPECT_TRUE(grammar_accepts(weather_and_search_tools(), text)) << text;
  auto parser = make_tool_format("pythonic")->make_parser(weather_and_search_tools());
  ParsedOutput out = parse_all(*parser, text);
  EXPECT_EQ(out.content, "");
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(nlohmann::ordered_json::parse(out.calls[0].arguments), weather);
  EXPECT_EQ(nlohmann::ordered_json::parse(out.calls[1].arguments), search);
}

TEST(PythonicGrammar, RejectsMalformedCalls) {
  const ToolSpec tools = weather_and_search_tools();
  EXPECT_TRUE(grammar_accepts(tools, R"([search(query="x", safe=False)])"));
  EXPECT_TRUE(grammar_accepts(tools, R"([search(query="x", filters={"a": [1, None]})])"));
  for (const char* bad : {
           R"([search(safe=False)])",                  // query is required
           R"([search(safe=False, query="x")])",       // schema order
           R"([search(query="x",)])",                  // trailing comma
           R"([search(query="x", safe=false)])",       // JSON's spelling
           R"([search(query='x')])",                   // single quotes
           R"([search(query="x", max_results=2.5)])",  // not an integer
           R"([get_weather(city="x", unit="kelvin")])",
           R"(search(query="x"))",  // no list
           R"([])",
       })
    EXPECT_FALSE(grammar_accepts(tools, bad)) << bad;
}

// The Llama 3.2 pythonic prompt format as Meta documents it (no Llama 4 pythonic template is in
// the test data; the official Llama 4 template renders JSON calls): the system prompt shows the
// "[func_name1(...)]" form, an assistant turn with calls is the list, values as Python literals.
const char* kLlama32PythonicTemplate = R"TPL(
{%- macro py(v) -%}
{%- if v is none -%}None
{%- elif v is boolean -%}{{ 'True' if v else 'False' }}
{%- elif v is string -%}{{ v | tojson }}
{%- elif v is mapping -%}{ {%- for k, x in v.items() -%}{{ k | tojson }}: {{ py(x) }}{{ ', ' if not loop.last }}{%- endfor -%} }
{%- elif v is iterable -%}[ {%- for x in v -%}{{ py(x) }}{{ ', ' if not loop.last }}{%- endfor -%} ]
{%- else -%}{{ v | tojson }}
{%- endif -%}
{%- endmacro -%}
{{- bos_token -}}
{%- if tools -%}
<|start_header_id|>system<|end_header_id|>

You are an expert in composing functions. If you decide to invoke any of the function(s), you MUST put it in the format of [func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)]
You SHOULD NOT include any other text in the response.
Here is a list of functions in JSON format that you can invoke.

{{ tools | tojson }}<|eot_id|>
{%- endif -%}
{%- for m in messages -%}
<|start_header_id|>{{ m.role }}<|end_header_id|>

{% if m.tool_calls -%}
{{ m.content ~ '\n' if m.content }}[
{%- for c in m.tool_calls -%}
{{ c.function.name }}( {%- for k, v in c.function.arguments.items() -%}{{ k }}={{ py(v) }}{{ ', ' if not loop.last }}{%- endfor -%} ){{ ', ' if not loop.last }}
{%- endfor -%}
]
{%- else -%}{{ m.content }}{%- endif -%}<|eot_id|>
{%- endfor -%}
{%- if add_generation_prompt -%}<|start_header_id|>assistant<|end_header_id|>

{% endif -%}
)TPL";

const TemplateFrame kLlama32Pythonic = {"(inline Llama 3.2 pythonic)",
                                        "<|start_header_id|>assistant<|end_header_id|>\n\n",
                                        "<|eot_id|>",
                                        {},
                                        kLlama32PythonicTemplate};

OJson two_pythonic_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"J({"query": "ünïcode \"q\" [x], (y)", "max_results": 3,
                                   "safe": true, "filters": {"lang": "fr", "tags": ["a", "b c"],
                                   "score": -1.5, "nested": {"deep": [1, {"k": false}]},
                                   "empty": {}, "none": [], "nothing": null}})J")});
}

TEST(PythonicTemplate, DetectedFromTheInstruction) {
  EXPECT_EQ(detect_tool_format(kLlama32PythonicTemplate, "llama"), "pythonic");
}

TEST(PythonicTemplate, CallsAlone) {
  std::string turn =
      render_assistant_turn(kLlama32Pythonic, weather_and_search_tools(),
                            {{"role", "assistant"}, {"tool_calls", two_pythonic_calls()}});
  EXPECT_TRUE(turn.starts_with(R"([get_weather(city="Paris", unit="celsius"), search()")) << turn;
  EXPECT_NE(turn.find("\"nothing\": None}"), std::string::npos) << turn;
  expect_template_round_trip(kLlama32Pythonic, "pythonic", weather_and_search_tools(),
                             {{"role", "assistant"}, {"tool_calls", two_pythonic_calls()}}, "");
}

TEST(PythonicTemplate, ContentThenCalls) {
  expect_template_round_trip(kLlama32Pythonic, "llama4_pythonic", weather_and_search_tools(),
                             {{"role", "assistant"},
                              {"content", "Let me look that up."},
                              {"tool_calls", two_pythonic_calls()}},
                             "Let me look that up.");
}

TEST(PythonicTemplate, TextTurn) {
  expect_template_round_trip(kLlama32Pythonic, "pythonic", weather_and_search_tools(),
                             {{"role", "assistant"}, {"content", "Sunny [1], 21 °C."}},
                             "Sunny [1], 21 °C.");
}

}  // namespace
}  // namespace sluice::parsers::testing
