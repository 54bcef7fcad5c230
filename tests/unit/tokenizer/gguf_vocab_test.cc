// llama.cpp's vocab goldens: every ggml-vocab-*.gguf with its .inp (cases, each followed by
// "\n__ggml_vocab_test__\n") and .out (one line of ids per case), encoded without special-token
// parsing and without BOS, as llama.cpp's test-tokenizer-0 does. Files come from the shared test
// data and, for names it lacks, from build/testdata/vocab (scripts/setup_testdata unpacks them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "formats/gguf.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

using testing::testdata_dir;

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// As test-tokenizer-0 reads it: text after the last separator is one more case.
std::vector<std::string> split_cases(const std::string& inp) {
  static const std::string kSep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (pos < inp.size()) {
    const size_t next = inp.find(kSep, pos);
    if (next == std::string::npos) {
      cases.push_back(inp.substr(pos));
      break;
    }
    cases.push_back(inp.substr(pos, next - pos));
    pos = next + kSep.size();
  }
  return cases;
}

std::vector<std::vector<int32_t>> read_out(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

// Vocabularies whose tokenizer.ggml.model sluice does not implement, with the reason.
const std::map<std::string, std::string>& unsupported() {
  static const std::map<std::string, std::string> m = {
      {"ggml-vocab-bert-bge", "WordPiece ('bert') tokenizers are not implemented"},
      {"ggml-vocab-nomic-bert-moe", "Unigram ('t5') tokenizers are not implemented"},
  };
  return m;
}

// name -> directory: the shared files first, then build/testdata/vocab for the names it lacks.
std::map<std::string, std::string> vocab_files() {
  std::map<std::string, std::string> files;
  for (const std::string& dir :
       {testdata_dir() + "/vocab", std::string(SLUICE_SOURCE_DIR) + "/build/testdata/vocab"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".gguf") files.emplace(e.path().stem().string(), dir);
    }
  }
  return files;
}

std::vector<std::string> vocab_names() {
  std::vector<std::string> names;
  for (const auto& [name, dir] : vocab_files()) names.push_back(name);
  return names;  // sorted (map order)
}

class GgufVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocab, MatchesLlamaCppGoldens) {
  if (auto it = unsupported().find(GetParam()); it != unsupported().end()) {
    GTEST_SKIP() << GetParam() << ": " << it->second;
  }
  const std::string base = vocab_files().at(GetParam()) + "/" + GetParam() + ".gguf";
  auto gguf = GgufFile::open(base);
  ASSERT_TRUE(gguf.ok()) << gguf.error();
  auto tok = load_tokenizer_gguf(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.error();
  if (!std::filesystem::exists(base + ".inp")) {
    GTEST_SKIP() << GetParam() << ": loads; llama.cpp ships no .inp/.out goldens for it";
  }

  const auto cases = split_cases(read_all(base + ".inp"));
  const auto want = read_out(base + ".out");
  ASSERT_EQ(cases.size(), want.size());
  ASSERT_GT(cases.size(), 40u);
  size_t ok = 0, roundtrip = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto got = (*tok)->encode(cases[i], EncodeOptions{});
    if (got == want[i]) {
      ++ok;
    } else {
      std::ostringstream g, w;
      for (auto id : got) g << id << ' ';
      for (auto id : want[i]) w << id << ' ';
      ADD_FAILURE() << GetParam() << " case " << i << " '" << cases[i] << "'\n  want " << w.str()
                    << "\n  got  " << g.str();
    }
    // Byte-level vocabularies round-trip exactly; SentencePiece's decoder drops the prefix space
    // its encoder added.
    roundtrip += (*tok)->decode(got, false) == cases[i];
  }
  std::printf("[%s] %zu/%zu cases, round trip %zu/%zu\n", GetParam().c_str(), ok, cases.size(),
              roundtrip, cases.size());
  EXPECT_EQ(ok, cases.size());
  EXPECT_EQ(roundtrip, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufVocab, ::testing::ValuesIn(vocab_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace sluice
