// Fuzz-style robustness: garbled real templates, token soup, and adversarial templates must
// never crash or hang the interpreter; they render or fail with a clear "[template] ..." error.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "jinja/template.h"

namespace sluice::jinja {
namespace {

using json = nlohmann::ordered_json;

json load(const std::string& name) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/reference/chat_template/goldens/" +
                  name);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

RenderOptions small_limits() {
  RenderOptions o;
  o.fixed_now = parse_fixed_date("2025-06-15");
  o.limits.max_loop_iterations = 20000;
  o.limits.max_output_bytes = 1 << 20;
  o.limits.max_string_bytes = 1 << 20;
  o.limits.max_call_depth = 60;
  return o;
}

// Parses and renders; any outcome but a crash is fine. Errors must be "[template] ..." lines.
void try_render(const std::string& src, const json& ctx, const RenderOptions& opts) {
  auto t = Template::parse(src);
  if (!t.ok()) {
    ASSERT_EQ(t.error().rfind("[template] ", 0), 0u) << t.error();
    ASSERT_EQ(t.error().find('\n'), std::string::npos) << t.error();
    return;
  }
  auto out = t->render(ctx, opts);
  if (!out.ok()) {
    ASSERT_EQ(out.error().rfind("[template] ", 0), 0u) << out.error();
  }
}

json random_context(std::mt19937& rng, const json& corpus) {
  const json& convs = corpus["conversations"];
  std::vector<std::string> names;
  for (auto it = convs.begin(); it != convs.end(); ++it) names.push_back(it.key());
  const json& conv = convs[names[rng() % names.size()]];
  json ctx = json::object();
  ctx["messages"] = conv["messages"];
  ctx["tools"] = (rng() % 2) ? corpus["toolsets"]["tools_3"] : json(nullptr);
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = rng() % 2 == 0;
  ctx["bos_token"] = "<s>";
  ctx["eos_token"] = "</s>";
  if (rng() % 3 == 0) ctx["enable_thinking"] = rng() % 2 == 0;
  return ctx;
}

TEST(TemplateFuzz, GarbledRealTemplates) {
  json templates = load("templates.json");
  json corpus = load("corpus.json");
  std::vector<std::string> sources;
  for (auto it = templates.begin(); it != templates.end(); ++it)
    sources.push_back(it.value()["source"]);
  static const char* kPieces[] = {"{%",          "%}",
                                  "{{",          "}}",
                                  "{#",          "#}",
                                  "-",           "+",
                                  "(",           ")",
                                  "[",           "]",
                                  "{",           "}",
                                  "'",           "\"",
                                  "|",           ".",
                                  ",",           ":",
                                  "~",           "*",
                                  "**",          "/",
                                  "//",          "%",
                                  "==",          "!=",
                                  " if ",        " else ",
                                  " for ",       " in ",
                                  " endfor ",    " endif ",
                                  " set ",       " macro ",
                                  " endmacro ",  " not ",
                                  " and ",       " or ",
                                  " is ",        " defined ",
                                  "loop",        "messages",
                                  "tojson",      "\\",
                                  "\n",          " ",
                                  "0",           "-1",
                                  "1e309",       "9999999999999999999",
                                  "raw",         "endraw",
                                  "namespace(",  "caller()",
                                  "{% break %}", "{% continue %}",
                                  "recursive",   "loop(",
                                  "\xff",        "\xc3",
                                  "é",           "😀"};
  std::mt19937 rng(1234);
  auto opts = small_limits();
  int parsed = 0;
#ifdef NDEBUG
  const int iterations = 2500;
#else
  const int iterations = 500;  // sanitizer builds are ~30x slower
#endif
  for (int iter = 0; iter < iterations; ++iter) {
    std::string src = sources[rng() % sources.size()];
    int edits = 1 + rng() % 6;
    for (int e = 0; e < edits && !src.empty(); ++e) {
      size_t pos = rng() % src.size();
      switch (rng() % 4) {
        case 0:  // delete a chunk
          src.erase(pos, 1 + rng() % 20);
          break;
        case 1:  // insert a token
          src.insert(pos, kPieces[rng() % (sizeof(kPieces) / sizeof(*kPieces))]);
          break;
        case 2: {  // duplicate a chunk elsewhere
          std::string chunk = src.substr(pos, 1 + rng() % 40);
          src.insert(rng() % src.size(), chunk);
          break;
        }
        default:  // flip a byte
          src[pos] = static_cast<char>(rng() % 256);
      }
    }
    if (Template::parse(src).ok()) ++parsed;
    try_render(src, random_context(rng, corpus), opts);
  }
  EXPECT_GT(parsed, iterations / 25);  // the mutations must leave many templates runnable
}

TEST(TemplateFuzz, TokenSoup) {
  static const char* kTokens[] = {
      "{{",    "}}",      "{%",     "%}",        "x",       "y",       "1",        "2.5",
      "'s'",   "none",    "true",   "(",         ")",       "[",       "]",        "{",
      "}",     ",",       ":",      "+",         "-",       "*",       "/",        "%",
      "~",     "|",       "upper",  "length",    "tojson",  "join",    "is",       "defined",
      "not",   "in",      "and",    "or",        "if",      "else",    "for",      "endfor",
      "endif", "set",     "=",      ".",         "items()", "loop",    "macro",    "endmacro",
      "call",  "endcall", "filter", "endfilter", "with",    "endwith", "range(3)", "namespace()",
      " ",     "\n",      "-%}",    "{%-",       "{#",      "#}"};
  std::mt19937 rng(99);
  json ctx = {{"x", json::array({1, "a", json::object({{"k", "v"}})})}, {"y", "text"}};
  auto opts = small_limits();
  for (int iter = 0; iter < 4000; ++iter) {
    std::string src;
    int n = 1 + rng() % 30;
    for (int i = 0; i < n; ++i) src += kTokens[rng() % (sizeof(kTokens) / sizeof(*kTokens))];
    try_render(src, ctx, opts);
  }
}

TEST(TemplateFuzz, AdversarialTemplatesFailFast) {
  const json ctx = {{"messages", json::array()}};
  auto opts = small_limits();
  const std::string deep_parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  std::string deep_ifs;
  for (int i = 0; i < 3000; ++i) deep_ifs += "{% if true %}";
  const std::vector<std::string> cases = {
      "{{ " + deep_parens + " }}",
      "{{ " + std::string(5000, '[') + " }}",
      "{{ " + std::string(5000, '-') + "1 }}",
      "{{ x" + std::string(3000, '|') + "upper }}",
      deep_ifs,
      "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
      "{% macro m(n) %}{{ m(n) ~ m(n) }}{% endmacro %}{{ m(1) }}",
      "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
      "{{ m(40) }}",
      "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
      "{{ 'a' * 1000000000 }}",
      "{{ ('a' * 100000) * 100000 }}",
      "{% set s = 'ab' %}{% for i in range(60) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}",
      "{{ range(10**9)|list }}",
      "{{ 9223372036854775807 + 1 }}",
      "{{ 2 ** 64 }}",
      "{% for x in messages recursive %}{{ loop(messages) }}{% endfor %}",
      "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = ns.l + [i] %}"
      "{% endfor %}",
      "{{ '%s' % '%s' * 1000000 }}",
      "{{ ' '.join(['x'] * 1000000) }}",
  };
  for (const auto& src : cases) {
    auto t0 = std::chrono::steady_clock::now();
    try_render(src, ctx, opts);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 20.0) << src.substr(0, 80);
  }
  // The loop budget stops runaway loops with a clear error.
  auto t = Template::parse(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  ASSERT_TRUE(t.ok());
  auto out = t->render(json::object(), opts);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("too many loop iterations"), std::string::npos) << out.error();
}

TEST(TemplateFuzz, ErrorsNameTheLine) {
  auto t = Template::parse("line1\n{% if x %}\n{{ x.y.z }}\n{% endif %}");
  ASSERT_TRUE(t.ok());
  auto out = t->render(json{{"x", json::object({{"a", 1}})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error(), "[template] UndefinedError: 'dict object' has no attribute 'y' (line 3)");
  auto bad = Template::parse("ok\n\n{% for x in %}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("(line 3)"), std::string::npos) << bad.error();
  auto raised =
      Template::parse("{{ raise_exception('Only user roles!') }}")->render(json::object());
  EXPECT_EQ(raised.error(), "[template] TemplateError: Only user roles! (line 1)");
}

}  // namespace
}  // namespace sluice::jinja
