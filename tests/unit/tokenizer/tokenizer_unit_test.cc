// Unit tests of the tokenizer pieces: byte-level alphabet, UTF-8 helpers, split behaviours,
// added tokens and parse_special, BOS/EOS and end-of-generation ids, the streaming detokenizer,
// load_tokenizer_for and the one-line errors for malformed files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "formats/gguf.h"
#include "test_paths.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::testdata_dir;

const Tokenizer& hf(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    auto r = load_tokenizer_json(testdata_dir() + "/tokenizers/" + name + "/tokenizer.json");
    SLUICE_ASSERT(r.ok(), r.error().c_str());
    slot = std::move(r.value());
  }
  return *slot;
}

std::unique_ptr<Tokenizer> gguf_tok(const std::string& name) {
  auto r = load_tokenizer_for(testdata_dir() + "/vocab/ggml-vocab-" + name + ".gguf");
  SLUICE_ASSERT(r.ok(), r.error().c_str());
  return std::move(r.value());
}

bool valid_utf8(const std::string& s) {
  return utf8::sanitize(s) == s;
}

// A temporary directory removed at the end of the test.
struct TokenizerTempDir {
  fs::path path;
  TokenizerTempDir() {
    path = fs::temp_directory_path() /
           ("sluice_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path);
  }
  ~TokenizerTempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

TEST(ByteLevel, EveryByteRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string enc = byte_level::encode(all);
  EXPECT_TRUE(valid_utf8(enc));
  EXPECT_EQ(byte_level::decode(enc), all);
  EXPECT_EQ(byte_level::encode(" "), "\xC4\xA0");   // "Ġ"
  EXPECT_EQ(byte_level::encode("\n"), "\xC4\x8A");  // "Ċ"
  EXPECT_EQ(byte_level::encode("a"), "a");
}

TEST(Utf8, CompletePrefixHoldsBackUnfinishedCharacters) {
  const std::string llama = "\xF0\x9F\xA6\x99";  // 🦙
  EXPECT_EQ(utf8::complete_prefix("ab"), 2u);
  EXPECT_EQ(utf8::complete_prefix("a" + llama.substr(0, 1)), 1u);
  EXPECT_EQ(utf8::complete_prefix("a" + llama.substr(0, 3)), 1u);
  EXPECT_EQ(utf8::complete_prefix("a" + llama), 5u);
  EXPECT_EQ(utf8::complete_prefix("a\x80"), 2u);  // stray continuation: not "incomplete"
  EXPECT_EQ(utf8::sanitize("a\xFF"
                           "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(PreTokenizer, SplitBehaviorsMatchHuggingFaceDocs) {
  auto re = Regex::compile("-");
  ASSERT_TRUE(re.ok());
  auto run = [&](SplitBehavior b) {
    std::vector<std::string> out;
    split_piece("the-final--countdown", **re, b, false, &out);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run(SplitBehavior::kRemoved), (V{"the", "final", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kIsolated), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithNext), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run(SplitBehavior::kContiguous), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizer, Gpt2RegexOnLongWhitespaceRuns) {
  auto re = Regex::compile(kGpt2SplitPattern);
  ASSERT_TRUE(re.ok());
  std::vector<std::string> out;
  const std::string text = std::string(100000, ' ') + "x";
  split_piece(text, **re, SplitBehavior::kIsolated, false, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].size(), 99999u);
  EXPECT_EQ(out[1], " x");
}

TEST(AddedTokens, ParseSpecialDecidesForSpecialTokensOnly) {
  const Tokenizer& tok = hf("qwen3");
  const auto im_start = tok.token_id("<|im_start|>");
  const auto think = tok.token_id("<think>");
  ASSERT_TRUE(im_start && think);
  EXPECT_TRUE(tok.is_special(*im_start));
  EXPECT_FALSE(tok.is_special(*think));

  EncodeOptions plain, special;
  special.parse_special = true;
  EXPECT_EQ(tok.encode("<|im_start|>", special), std::vector<int32_t>{*im_start});
  const auto as_text = tok.encode("<|im_start|>", plain);
  EXPECT_GT(as_text.size(), 1u);
  EXPECT_EQ(tok.decode(as_text, true), "<|im_start|>");
  // Non-special added tokens are matched either way (HF and llama.cpp agree).
  EXPECT_EQ(tok.encode("<think>", plain), std::vector<int32_t>{*think});
  // skip_special drops special tokens only.
  const auto ids = tok.encode("<|im_start|>user\n<think>hi", special);
  EXPECT_EQ(tok.decode(ids, true), "user\n<think>hi");
  EXPECT_EQ(tok.decode(ids, false), "<|im_start|>user\n<think>hi");
}

TEST(SpecialIds, Llama3FromTokenizerJsonAndConfig) {
  const Tokenizer& tok = hf("llama3_2");
  EXPECT_EQ(tok.bos_id(), 128000);
  EXPECT_EQ(tok.eos_id(), 128009);  // tokenizer_config eos_token <|eot_id|>
  const auto eog = tok.eog_ids();
  for (int32_t id : {128001, 128008, 128009}) {  // <|end_of_text|>, <|eom_id|>, <|eot_id|>
    EXPECT_NE(std::find(eog.begin(), eog.end(), id), eog.end()) << id;
  }
  EncodeOptions opts;
  opts.add_special = true;
  const auto ids = tok.encode("Hello", opts);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], 128000);
  EXPECT_EQ(tok.decode(ids, true), "Hello");
  EXPECT_EQ(tok.vocab_size(), 128256);
}

TEST(SpecialIds, QwenEndOfGeneration) {
  const Tokenizer& tok = hf("qwen2_5");
  EXPECT_EQ(tok.eos_id(), 151645);  // <|im_end|>
  EXPECT_FALSE(tok.bos_id().has_value());
  const auto eog = tok.eog_ids();
  EXPECT_NE(std::find(eog.begin(), eog.end(), 151643), eog.end());  // <|endoftext|>
  EncodeOptions opts;
  opts.add_special = true;  // Qwen adds nothing
  EXPECT_EQ(tok.encode("Hi", opts), tok.encode("Hi", EncodeOptions{}));
}

TEST(SpecialIds, GgufMetadata) {
  auto spm = gguf_tok("llama-spm");
  EXPECT_EQ(spm->bos_id(), 1);
  EXPECT_EQ(spm->eos_id(), 2);
  EncodeOptions opts;
  opts.add_special = true;
  const auto ids = spm->encode("Hello world", opts);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(spm->decode(ids, true), "Hello world");
  EXPECT_EQ(spm->decode(ids, false), "<s> Hello world");  // llama.cpp keeps the space after <s>

  auto llama3 = gguf_tok("llama-bpe");
  EXPECT_EQ(llama3->encode("Hi", opts).front(), 128000);  // llama-bpe adds BOS by default
  const auto eog = llama3->eog_ids();
  EXPECT_NE(std::find(eog.begin(), eog.end(), 128009), eog.end());
}

TEST(Streaming, NeverEmitsHalfACharacterAndEqualsDecode) {
  for (const char* name : {"qwen3", "llama3_2"}) {
    const Tokenizer& tok = hf(name);
    const std::string text = "héllo 🦙🧑🏾‍💻 世界 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ok";
    const auto ids = tok.encode(text, EncodeOptions{});
    StreamingDetokenizer detok(tok);
    std::string streamed;
    size_t held = 0;
    for (int32_t id : ids) {
      const std::string piece = detok.push(id);
      EXPECT_TRUE(valid_utf8(piece)) << name;
      held += piece.empty();
      streamed += piece;
    }
    streamed += detok.flush();
    EXPECT_EQ(streamed, text) << name;
    EXPECT_EQ(streamed, tok.decode(ids, true));
    EXPECT_GT(held, 0u) << name << ": some emoji should span several byte tokens";
  }
}

TEST(Streaming, SentencePieceStripsTheFirstSpaceOnly) {
  auto tok = gguf_tok("llama-spm");
  const auto ids = tok->encode("Hello world 🦙", EncodeOptions{});
  StreamingDetokenizer detok(*tok);
  std::string out;
  for (int32_t id : ids) out += detok.push(id);
  out += detok.flush();
  EXPECT_EQ(out, "Hello world 🦙");
  EXPECT_EQ(out, tok->decode(ids, true));
}

TEST(Streaming, FlushReplacesAnUnfinishedCharacter) {
  const Tokenizer& tok = hf("qwen3");
  // A token for the lone byte 0xF0 (lead byte of a 4-byte character).
  const auto id = tok.token_id(byte_level::encode("\xF0"));
  ASSERT_TRUE(id.has_value());
  StreamingDetokenizer detok(tok);
  EXPECT_EQ(detok.push(*id), "");
  EXPECT_EQ(detok.flush(), "\xEF\xBF\xBD");
}

TEST(Loading, DirectoryJsonAndGguf) {
  auto by_dir = load_tokenizer_for(testdata_dir() + "/tokenizers/qwen3");
  ASSERT_TRUE(by_dir.ok()) << by_dir.error();
  EXPECT_EQ((*by_dir)->vocab_size(), hf("qwen3").vocab_size());
  auto by_gguf = load_tokenizer_for(testdata_dir() + "/vocab/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(by_gguf.ok()) << by_gguf.error();
  EXPECT_EQ((*by_gguf)->encode("Hello world", EncodeOptions{}),
            hf("qwen2_5").encode("Hello world", EncodeOptions{}));
}

void expect_error(const Result<std::unique_ptr<Tokenizer>>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("[", 0), 0u) << r.error();
  EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
  EXPECT_NE(r.error().find(needle), std::string::npos) << r.error();
}

TEST(Errors, MalformedTokenizerJson) {
  TokenizerTempDir dir;
  expect_error(load_tokenizer_json(dir.write("bad.json", "{\"model\": ")), "invalid JSON");
  expect_error(load_tokenizer_json(dir.write("nomodel.json", "{\"version\": \"1.0\"}")),
               "missing \"model\"");
  expect_error(load_tokenizer_json(
                   dir.write("wp.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})")),
               "unk_token '[UNK]' not in the vocab");
  expect_error(load_tokenizer_json(
                   dir.write("uni.json", R"({"model": {"type": "Unigram", "vocab": [["a", 0]]}})")),
               "unsupported model type 'Unigram'");
  expect_error(
      load_tokenizer_json(dir.write("merge.json",
                                    R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
                       "merges": ["a b", "a zz"]}})")),
      "unknown token 'zz'");
  expect_error(
      load_tokenizer_json(dir.write(
          "badid.json", R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})")),
      "bad id");
  expect_error(load_tokenizer_json(dir.write(
                   "pre.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                                   "pre_tokenizer": {"type": "Nonsense"}})")),
               "unsupported pre_tokenizer type 'Nonsense'");
  expect_error(load_tokenizer_json(dir.write(
                   "added.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                                     "added_tokens": [{"id": "x", "content": 3}]})")),
               "added token");
  expect_error(load_tokenizer_json((dir.path / "missing.json").string()), "cannot open");
}

TEST(Errors, LoadTokenizerFor) {
  TokenizerTempDir dir;
  expect_error(load_tokenizer_for((dir.path / "nope").string()), "no such file");
  expect_error(load_tokenizer_for(dir.path.string()), "no tokenizer.json");
  expect_error(load_tokenizer_for(dir.write("x.bin", "hi")), "expected a .gguf");
  expect_error(load_tokenizer_for(dir.write("x.txt", "hi")), "lacks the unknown");

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  const std::string path = (dir.path / "empty.gguf").string();
  ASSERT_TRUE(w.write(path).is_ok());
  expect_error(load_tokenizer_for(path), "no tokenizer.ggml.tokens");

  GgufWriter w2;
  w2.add_string("tokenizer.ggml.model", "gpt2");
  w2.add_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w2.add_string_array("tokenizer.ggml.merges", {"a b", "a q"});
  const std::string path2 = (dir.path / "merges.gguf").string();
  ASSERT_TRUE(w2.write(path2).is_ok());
  expect_error(load_tokenizer_for(path2), "unknown token 'q'");
}

TEST(Robustness, InvalidUtf8AndEmptyInput) {
  const Tokenizer& tok = hf("qwen3");
  EXPECT_TRUE(tok.encode("", EncodeOptions{}).empty());
  const auto ids = tok.encode(
      "a\xFF\xFE"
      "b\xC3",
      EncodeOptions{});
  EXPECT_EQ(tok.decode(ids, false),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(tok.token_bytes(-1, false), "");
  EXPECT_EQ(tok.token_bytes(1 << 30, false), "");
  EXPECT_EQ(tok.decode({-5, 1 << 30}, false), "");
}

TEST(Concurrency, ParallelEncodeMatchesSerial) {
  // encode is const and shared across HTTP worker threads (BPE cache, per-thread regex state).
  const Tokenizer& tok = hf("llama3_2");
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) {
    texts.push_back("word" + std::to_string(i * 7919) + " Hello wörld 🦙 " +
                    std::string(i % 7, ' ') + "<|eot_id|> x" + std::to_string(i));
  }
  EncodeOptions opts;
  opts.parse_special = true;
  std::vector<std::vector<int32_t>> serial;
  for (const auto& t : texts) serial.push_back(tok.encode(t, opts));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int rep = 0; rep < 5; ++rep) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const size_t k = (i * 31 + static_cast<size_t>(th) * 17) % texts.size();
          mismatches[static_cast<size_t>(th)] += tok.encode(texts[k], opts) != serial[k];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace sluice
