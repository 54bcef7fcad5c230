// End of generation for harmony vocabularies (gpt-oss, o200k_harmony): <|return|> and <|call|>
// end a turn; <|end|> only ends a message, so it is no end of generation there (as llama.cpp
// decides), while vocabularies without the two (Phi-3) keep <|end|>.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// The synthetic SentencePiece-style tokenizer with these special tokens added after its vocab.
std::unique_ptr<Tokenizer> with_specials(const std::vector<std::string>& specials) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) +
                  "/tests/reference/tokenizer/synthetic/spm_bytefallback/tokenizer.json");
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(f);
  int id = static_cast<int>(j["model"]["vocab"].size());
  for (const std::string& s : specials)
    j["added_tokens"].push_back({{"id", id++},
                                 {"content", s},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", false},
                                 {"special", true}});
  const fs::path dir = fs::temp_directory_path() / ("sluice_harmony_eog_" + std::to_string(id));
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << j.dump();
  auto tok = load_tokenizer_json((dir / "tokenizer.json").string());
  fs::remove_all(dir);
  EXPECT_TRUE(tok.ok()) << tok.error();
  return tok.ok() ? std::move(*tok) : nullptr;
}

bool is_eog(const Tokenizer& tok, const std::string& text) {
  auto id = tok.token_id(text);
  EXPECT_TRUE(id) << text;
  const auto eog = tok.eog_ids();
  return id && std::find(eog.begin(), eog.end(), *id) != eog.end();
}

TEST(HarmonyEog, ReturnAndCallEndGenerationNotEnd) {
  auto tok = with_specials({"<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>",
                            "<|call|>", "<|constrain|>"});
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(is_eog(*tok, "<|return|>"));
  EXPECT_TRUE(is_eog(*tok, "<|call|>"));
  EXPECT_FALSE(is_eog(*tok, "<|end|>"));
  EXPECT_FALSE(is_eog(*tok, "<|start|>"));
}

TEST(HarmonyEog, EndStaysWithoutReturnAndCall) {
  auto tok = with_specials({"<|end|>", "<|user|>"});  // Phi-3 style
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(is_eog(*tok, "<|end|>"));
}

}  // namespace
}  // namespace sluice
