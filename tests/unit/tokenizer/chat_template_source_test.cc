// Where chat templates come from: .jinja files, tokenizer_config.json (string or named list),
// model directories, and GGUF metadata.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/gguf.h"
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

}  // namespace
}  // namespace sluice
