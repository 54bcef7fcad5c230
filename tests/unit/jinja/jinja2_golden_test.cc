// Replays tests/reference/chat_template/goldens: every template x conversation rendered by
// Python jinja2 with Hugging Face's environment must render byte-identically here, and every
// case where jinja2 raised must fail here too.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "jinja/template.h"

namespace sluice::jinja {
namespace {

using json = nlohmann::ordered_json;

std::string golden_dir() {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/reference/chat_template/goldens/";
}

json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

// First differing byte, with a little context, for failure messages.
std::string first_diff(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  return "at byte " + std::to_string(i) + "\n  want: " + json(want.substr(from, 100)).dump() +
         "\n  got:  " + json(got.substr(from, 100)).dump();
}

TEST(Jinja2Golden, AllTemplatesMatchJinja2) {
  json templates = read_json(golden_dir() + "templates.json");
  json corpus = read_json(golden_dir() + "corpus.json");
  std::ifstream lines(golden_dir() + "goldens.jsonl", std::ios::binary);
  ASSERT_TRUE(lines) << "missing goldens";

  std::map<std::string, Template> parsed;
  for (auto it = templates.begin(); it != templates.end(); ++it) {
    auto t = Template::parse(it.value()["source"].get<std::string>());
    ASSERT_TRUE(t.ok()) << it.key() << ": " << t.error();
    parsed.emplace(it.key(), std::move(*t));
  }
  RenderOptions opts;
  opts.fixed_now = parse_fixed_date("2025-06-15");

  struct Count {
    int cases = 0, passed = 0, errors_expected = 0;
  };
  std::map<std::string, Count> counts;
  int failures = 0;
  std::string line;
  while (std::getline(lines, line)) {
    json g = json::parse(line);
    const std::string tid = g["template"];
    const json& tpl = templates[tid];
    const json& conv = corpus["conversations"][g["conversation"].get<std::string>()];
    json ctx = json::object();
    ctx["messages"] = conv["messages"];
    if (g.contains("toolset"))
      ctx["tools"] = corpus["toolsets"][g["toolset"].get<std::string>()];
    else
      ctx["tools"] = conv.contains("tools") ? conv["tools"] : json(nullptr);
    ctx["documents"] = conv.contains("documents") ? conv["documents"] : json(nullptr);
    ctx["add_generation_prompt"] = g["add_generation_prompt"];
    for (auto it = tpl["special_tokens"].begin(); it != tpl["special_tokens"].end(); ++it)
      ctx[it.key()] = it.value();
    if (conv.contains("kwargs"))
      for (auto it = conv["kwargs"].begin(); it != conv["kwargs"].end(); ++it)
        ctx[it.key()] = it.value();
    for (auto it = g["kwargs"].begin(); it != g["kwargs"].end(); ++it) ctx[it.key()] = it.value();

    Count& c = counts[tid];
    ++c.cases;
    auto out = parsed.at(tid).render(ctx, opts);
    std::string name = tid + " / " + g["conversation"].get<std::string>() +
                       " / agp=" + g["add_generation_prompt"].dump() + " " + g["kwargs"].dump();
    bool ok;
    if (g.contains("error")) {
      ++c.errors_expected;
      const std::string type = g["error"]["type"], message = g["error"]["message"];
      ok = !out.ok();
      // raise_exception's message must come through unchanged
      if (ok && type == "TemplateError") ok = out.error().find(message) != std::string::npos;
      if (!ok && ++failures <= 20)
        ADD_FAILURE() << name << ": jinja2 raised " << type << ": " << message << "\n  sluice: "
                      << (out.ok() ? "rendered " + json(*out).dump().substr(0, 200) : out.error());
    } else {
      ok = out.ok() && *out == g["expected"].get<std::string>();
      if (!ok && ++failures <= 20)
        ADD_FAILURE() << name << ": "
                      << (out.ok() ? first_diff(g["expected"], *out) : "error " + out.error());
    }
    if (ok) ++c.passed;
  }
  for (const auto& [tid, c] : counts) {
    std::printf("  %-48s %3d/%3d match (%d of them expected errors)\n", tid.c_str(), c.passed,
                c.cases, c.errors_expected);
    EXPECT_GE(c.cases - c.errors_expected, 50) << tid << ": fewer than 50 rendered goldens";
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(counts.size(), templates.size());
}

}  // namespace
}  // namespace sluice::jinja

namespace sluice::jinja {
namespace {

// Language snippets (tests/reference/chat_template/snippets.py) rendered by jinja2.
TEST(Jinja2Golden, LanguageSnippetsMatchJinja2) {
  std::ifstream lines(golden_dir() + "snippets.jsonl", std::ios::binary);
  ASSERT_TRUE(lines) << "missing snippets.jsonl";
  std::string line;
  std::getline(lines, line);
  json ctx = json::parse(line)["context"];
  RenderOptions opts;
  opts.fixed_now = parse_fixed_date("2025-06-15");
  int total = 0, passed = 0;
  while (std::getline(lines, line)) {
    json g = json::parse(line);
    const std::string src = g["source"];
    ++total;
    auto t = Template::parse(src);
    Result<std::string> out = t.ok() ? t->render(ctx, opts) : Result<std::string>(t.status());
    bool ok;
    if (g.contains("error")) {
      ok = !out.ok();
      if (ok && g["error"]["type"] == "TemplateError")
        ok = out.error().find(g["error"]["message"].get<std::string>()) != std::string::npos;
      if (!ok)
        ADD_FAILURE() << json(src).dump() << ": jinja2 raised " << g["error"].dump()
                      << "\n  sluice: "
                      << (out.ok() ? "rendered " + json(*out).dump() : out.error());
    } else {
      ok = out.ok() && *out == g["expected"].get<std::string>();
      if (!ok)
        ADD_FAILURE() << json(src).dump() << "\n  want: " << g["expected"].dump()
                      << "\n  got:  " << (out.ok() ? json(*out).dump() : out.error());
    }
    passed += ok;
  }
  std::printf("  snippets: %d/%d match\n", passed, total);
  EXPECT_EQ(passed, total);
}

}  // namespace
}  // namespace sluice::jinja
