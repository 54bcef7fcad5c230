// Where chat templates come from: .jinja files, tokenizer_config.json (string or named list),
// model directories, and GGUF metadata; plus the public parse/render API.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "formats/gguf.h"
#include "tokenizer/chat_template/chat_template.h"
#include "tokenizer/chat_template/template_source.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

class ChatTemplateSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_tpl_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(ChatTemplateSourceTest, JinjaFile) {
  auto src = load_chat_template_source(write("t.jinja", "{{ bos_token }}hi"));
  ASSERT_TRUE(src.ok()) << src.error();
  EXPECT_EQ(src->source, "{{ bos_token }}hi");
  EXPECT_TRUE(src->special_tokens.empty());
}

TEST_F(ChatTemplateSourceTest, TokenizerConfigNamedTemplates) {
  ojson cfg = {
      {"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
      {"eos_token", "</s>"},
      {"pad_token", nullptr},
      {"additional_special_tokens", {"<a>", {{"content", "<b>"}}}},
      {"chat_template",
       {{{"name", "default"}, {"template", "D"}}, {{"name", "tool_use"}, {"template", "T"}}}}};
  std::string path = write("tokenizer_config.json", cfg.dump());
  auto plain = load_chat_template_source(path, false);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(plain->source, "D");
  EXPECT_EQ(plain->special_tokens.dump(),
            R"({"bos_token":"<s>","eos_token":"</s>","additional_special_tokens":["<a>","<b>"]})");
  auto tools = load_chat_template_source(path, true);
  ASSERT_TRUE(tools.ok());
  EXPECT_EQ(tools->source, "T");
}

TEST_F(ChatTemplateSourceTest, DirectoryPrefersChatTemplateJinja) {
  write("tokenizer_config.json", R"({"chat_template": "from config", "eos_token": "<e>"})");
  auto from_config = load_chat_template_source(dir_.string());
  ASSERT_TRUE(from_config.ok()) << from_config.error();
  EXPECT_EQ(from_config->source, "from config");
  write("chat_template.jinja", "from jinja");
  auto from_jinja = load_chat_template_source(dir_.string());
  ASSERT_TRUE(from_jinja.ok());
  EXPECT_EQ(from_jinja->source, "from jinja");
  EXPECT_EQ(from_jinja->special_tokens["eos_token"], "<e>");
}

TEST_F(ChatTemplateSourceTest, GgufMetadata) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.chat_template", "{{ bos_token }}|{{ eos_token }}");
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<|im_start|>", "<|im_end|>", "a"});
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  std::string path = (dir_ / "m.gguf").string();
  ASSERT_TRUE(w.write(path).is_ok());
  auto src = load_chat_template_source(path);
  ASSERT_TRUE(src.ok()) << src.error();
  EXPECT_EQ(src->source, "{{ bos_token }}|{{ eos_token }}");
  EXPECT_EQ(src->special_tokens["bos_token"], "<|im_start|>");
  EXPECT_EQ(src->special_tokens["eos_token"], "<|im_end|>");
}

TEST_F(ChatTemplateSourceTest, Errors) {
  EXPECT_FALSE(load_chat_template_source((dir_ / "missing.jinja").string()).ok());
  auto no_tpl = load_chat_template_source(write("tokenizer_config.json", R"({"eos_token": "x"})"));
  ASSERT_FALSE(no_tpl.ok());
  EXPECT_NE(no_tpl.error().find("no chat_template"), std::string::npos);
  EXPECT_FALSE(load_chat_template_source(dir_.string() + "/nothing").ok());
}

TEST(ChatTemplateApi, RendersContextInKeyOrder) {
  auto t = ChatTemplate::parse("{{ d|tojson }} {% for k in d %}{{ k }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  ojson ctx = ojson::parse(R"({"d": {"z": 1, "a": [1.5, "é", null]}})");
  auto out = t->render(ctx);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, R"({"z": 1, "a": [1.5, "é", null]} za)");
}

TEST(ChatTemplateApi, FixedDateAndStrftime) {
  auto t = ChatTemplate::parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}");
  ASSERT_TRUE(t.ok());
  ChatTemplateRenderOptions o;
  o.fixed_now = parse_fixed_date("2024-07-26");
  ASSERT_TRUE(o.fixed_now.has_value());
  EXPECT_EQ(*t->render(ojson::object(), o), "26 Jul 2024|July 26, 2024");
  EXPECT_FALSE(parse_fixed_date("July 2024").has_value());
}

TEST(ChatTemplateApi, ParseErrorIsOneLineWithLine) {
  auto t = ChatTemplate::parse("a\n{% for %}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().rfind("[template] TemplateSyntaxError: ", 0), 0u) << t.error();
  EXPECT_NE(t.error().find("(line 2)"), std::string::npos) << t.error();
}

TEST(ChatTemplateApi, SharedTemplateRendersConcurrently) {
  auto t = ChatTemplate::parse(
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
}  // namespace sluice
