// The GGUF loader's rules taken from llama.cpp's llama-vocab.cpp, on tiny hand-made vocabularies:
// "gemma4" (SentencePiece-style BPE), end-of-generation ids for harmony (gpt-oss) and user-defined
// tokens with an end-of-turn text.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load(const GgufWriter& w) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path path =
      fs::temp_directory_path() / (std::string("sluice_rules_") + info->name() + ".gguf");
  SLUICE_ASSERT(w.write(path.string()).is_ok(), "write");
  auto g = GgufFile::open(path.string());
  SLUICE_ASSERT(g.ok(), g.error().c_str());
  auto tok = load_tokenizer_gguf(**g);
  fs::remove(path);
  SLUICE_ASSERT(tok.ok(), tok.error().c_str());
  return std::move(tok.value());
}

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

const std::string kSp = "\xE2\x96\x81";  // "▁"

// Tokens of a tiny Gemma 4 style vocabulary: <0x00>..<0xFF> then the pieces below.
GgufWriter gemma4_vocab() {
  std::vector<std::string> toks = {"<pad>", "<eos>", "<bos>", "<unk>", "<turn|>", "<|\"|>"};
  std::vector<int32_t> types = {3, 3, 3, 3, 3, 4};
  static const char* kHex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    toks.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    types.push_back(6);
  }
  for (const std::string& t :
       {kSp, std::string("a"), std::string("b"), kSp + "a", std::string("ab"), kSp + "ab",
        std::string("\n"), std::string("\n\n\n")}) {
    toks.push_back(t);
    types.push_back(1);
  }
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gemma4");
  w.add_string_array("tokenizer.ggml.tokens", toks);
  w.add_int32_array("tokenizer.ggml.token_type", types);
  // "\n \n" merges exist but a run of three newlines that is a token stays whole.
  w.add_string_array("tokenizer.ggml.merges", {kSp + " a", "a b", kSp + "a b", "\n \n"});
  w.add_uint32("tokenizer.ggml.bos_token_id", 2);
  w.add_uint32("tokenizer.ggml.eos_token_id", 1);
  w.add_bool("tokenizer.ggml.add_bos_token", false);  // llama.cpp turns it on anyway
  return w;
}

TEST(Gemma4, SpacesEscapedBytesFallBackNewlineRunsWhole) {
  auto tok = load(gemma4_vocab());
  auto id = [&](const std::string& t) { return *tok->token_id(t); };
  const std::string text = "ab ab\n\n\n\xC3\xA9<|\"|>";
  const std::vector<int32_t> want = {id("ab"),     id(kSp + "ab"), id("\n\n\n"),
                                     id("<0xC3>"), id("<0xA9>"),   id("<|\"|>")};
  EXPECT_EQ(tok->encode(text, EncodeOptions{}), want);
  EXPECT_EQ(tok->decode(want, false), text);
  const auto with_bos = tok->encode("a", EncodeOptions{true, false});
  EXPECT_EQ(with_bos, (std::vector<int32_t>{2, id("a")}));
  EXPECT_TRUE(contains(tok->eog_ids(), id("<turn|>")));
}

TEST(EndOfGeneration, HarmonyEndClosesAMessageNotTheTurn) {
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-4o");
  w.add_string_array("tokenizer.ggml.tokens",
                     {"a", "<|endoftext|>", "<|return|>", "<|end|>", "<|call|>", "<|start|>"});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 3, 3, 3, 3, 3});
  w.add_string_array("tokenizer.ggml.merges", {});
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  auto eog = load(w)->eog_ids();
  std::sort(eog.begin(), eog.end());
  EXPECT_EQ(eog, (std::vector<int32_t>{1, 2, 4}));
}

TEST(EndOfGeneration, UserDefinedEndTextBecomesControl) {
  // Phi-3 stores </s> as user-defined; llama.cpp makes it control (and end of generation).
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", {"<", "/", "s", ">", "</s>", "<x>"});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 4, 4});
  w.add_string_array("tokenizer.ggml.merges", {});
  auto tok = load(w);
  EXPECT_TRUE(tok->is_special(4));
  EXPECT_FALSE(tok->is_special(5));
  EXPECT_TRUE(contains(tok->eog_ids(), 4));
  EXPECT_EQ(tok->encode("</s><x>", EncodeOptions{}), (std::vector<int32_t>{0, 1, 2, 3, 5}));
  EXPECT_EQ(tok->encode("</s><x>", EncodeOptions{false, true}), (std::vector<int32_t>{4, 5}));
}

}  // namespace
}  // namespace sluice
