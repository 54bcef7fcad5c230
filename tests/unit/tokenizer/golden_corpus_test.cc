// Golden corpus: encode == Hugging Face `tokenizers` ids and decode == HF decode for >= 2000
// strings per tokenizer (tests/reference/tokenizer/make_goldens.py made the goldens), and
// decode(encode(s)) == s wherever HF's own round trip gives s back (everywhere for the byte-level
// tokenizers except text the NFC normalizer changes).
//
// HF `Tokenizer.encode` always matches added tokens, special ones included (none of these
// tokenizers sets split_special_tokens), so the comparison uses parse_special = true.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

using testing::testdata_dir;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class GoldenCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCorpus, EncodeAndDecodeMatchHuggingFace) {
  const std::string name = GetParam();
  // Real tokenizers come from the shared test data, the two small SentencePiece-style ones
  // (trained by make_goldens.py) from the repository.
  const bool synthetic = name == "spm_bytefallback" || name == "metaspace";
  const std::string tok_path =
      (synthetic ? std::string(SLUICE_SOURCE_DIR) + "/tests/reference/tokenizer/synthetic/"
                 : testdata_dir() + "/tokenizers/") +
      name + "/tokenizer.json";
  const std::string golden_path =
      std::string(SLUICE_SOURCE_DIR) + "/tests/reference/tokenizer/goldens/" + name + ".jsonl";

  auto t0 = std::chrono::steady_clock::now();
  auto tok = load_tokenizer_json(tok_path);
  ASSERT_TRUE(tok.ok()) << tok.error();
  const double load_s = seconds_since(t0);

  std::ifstream in(golden_path);
  ASSERT_TRUE(in) << "missing " << golden_path;
  std::vector<std::string> texts, decoded;
  std::vector<std::vector<int32_t>> golden;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    texts.push_back(j["text"]);
    golden.push_back(j["ids"].get<std::vector<int32_t>>());
    decoded.push_back(j.value("decoded", texts.back()));
  }
  ASSERT_GE(texts.size(), 2000u);

  EncodeOptions opts;
  opts.parse_special = true;
  t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> got;
  got.reserve(texts.size());
  for (const auto& t : texts) got.push_back((*tok)->encode(t, opts));
  const double encode_s = seconds_since(t0);

  size_t enc_ok = 0, dec_ok = 0, roundtrip_ok = 0, roundtrip_total = 0, reported = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (got[i] == golden[i]) {
      ++enc_ok;
    } else if (reported++ < 10) {
      ADD_FAILURE() << name << " encode mismatch for " << nlohmann::json(texts[i]).dump()
                    << "\n  want " << nlohmann::json(golden[i]).dump() << "\n  got  "
                    << nlohmann::json(got[i]).dump();
    }
    const std::string d = (*tok)->decode(golden[i], /*skip_special=*/false);
    if (d == decoded[i]) {
      ++dec_ok;
    } else if (reported++ < 10) {
      ADD_FAILURE() << name << " decode mismatch for " << nlohmann::json(texts[i]).dump()
                    << "\n  got " << nlohmann::json(d).dump();
    }
    // decode(encode(s)) == s wherever the normalizer leaves s unchanged (HF's own round trip).
    if (decoded[i] == texts[i]) {
      ++roundtrip_total;
      roundtrip_ok += (*tok)->decode(got[i], false) == texts[i];
    }
  }
  std::printf(
      "[%s] load %.3fs, encode %zu strings %.3fs; encode %zu/%zu, decode %zu/%zu, "
      "round trip %zu/%zu\n",
      name.c_str(), load_s, texts.size(), encode_s, enc_ok, texts.size(), dec_ok, texts.size(),
      roundtrip_ok, roundtrip_total);
  EXPECT_EQ(enc_ok, texts.size());
  EXPECT_EQ(dec_ok, texts.size());
  EXPECT_EQ(roundtrip_ok, roundtrip_total);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenCorpus,
                         ::testing::Values("llama3_2", "qwen2_5", "qwen3", "spm_bytefallback",
                                           "metaspace"));

}  // namespace
}  // namespace sluice
