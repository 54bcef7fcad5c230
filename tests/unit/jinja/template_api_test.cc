// The public parse/render API: context key order, a pinned clock, one-line errors, and one
// parsed template rendered from several threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jinja/template.h"

namespace sluice::jinja {
namespace {

using ojson = nlohmann::ordered_json;

TEST(TemplateApi, RendersContextInKeyOrder) {
  auto t = Template::parse("{{ d|tojson }} {% for k in d %}{{ k }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  ojson ctx = ojson::parse(R"({"d": {"z": 1, "a": [1.5, "é", null]}})");
  auto out = t->render(ctx);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, R"({"z": 1, "a": [1.5, "é", null]} za)");
}

TEST(TemplateApi, FixedDateAndStrftime) {
  auto t = Template::parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}");
  ASSERT_TRUE(t.ok());
  RenderOptions o;
  o.fixed_now = parse_fixed_date("2024-07-26");
  ASSERT_TRUE(o.fixed_now.has_value());
  EXPECT_EQ(*t->render(ojson::object(), o), "26 Jul 2024|July 26, 2024");
  EXPECT_FALSE(parse_fixed_date("July 2024").has_value());
}

TEST(TemplateApi, ParseErrorIsOneLineWithLine) {
  auto t = Template::parse("a\n{% for %}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().rfind("[template] TemplateSyntaxError: ", 0), 0u) << t.error();
  EXPECT_NE(t.error().find("(line 2)"), std::string::npos) << t.error();
}

TEST(TemplateApi, SharedTemplateRendersConcurrently) {
  auto t = Template::parse(
      "{% macro m(x) %}<{{ x }}>{% endmacro %}{% for i in range(50) %}{{ m(i) }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  std::string want = *t->render(ojson::object());
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (*t->render(ojson::object()) != want) ++bad;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace sluice::jinja
