// WordPiece (BERT) tokenizers by hand: the BertNormalizer, BertPreTokenizer, WordPiece model,
// [CLS] A [SEP] B [SEP] templates with type ids, longest_first truncation, decoding, and loading
// from tokenizer.json and from a bare vocab.txt.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tokenizer/bert_basic_tokenizer.h"
#include "tokenizer/encoder_input.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct WordPieceTempDir {
  fs::path path;
  WordPieceTempDir() {
    path = fs::temp_directory_path() /
           ("sluice_wp_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path);
  }
  ~WordPieceTempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

// id = position in this list.
const char* const kVocab[] = {"[PAD]",  "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",    "##aff",
                              "##able", "hello", "world", ",",     "!",      "creme", "中",
                              "文",     "a",     "##a",   "x",     "crème",  "'",     "s",
                              ".",      "[",     "cl",    "##s",   "]",      "CREME", "Crème"};
constexpr int32_t kUnk = 1, kCls = 2, kSep = 3;

std::string vocab_txt() {
  std::string s;
  for (const char* t : kVocab) s += std::string(t) + "\n";
  return s;
}

std::string tokenizer_json(const std::string& normalizer, int max_chars = 100) {
  std::string vocab;
  for (size_t i = 0; i < std::size(kVocab); ++i) {
    vocab += (i ? ", \"" : "\"") + std::string(kVocab[i]) + "\": " + std::to_string(i);
  }
  std::string added;
  for (int i = 0; i < 5; ++i) {
    added += (i ? ", " : "") + std::string("{\"id\": ") + std::to_string(i) + ", \"content\": \"" +
             kVocab[i] + "\", \"special\": true, \"normalized\": false}";
  }
  return R"({"added_tokens": [)" + added + R"(], "normalizer": )" + normalizer +
         R"(, "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
               {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
    "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
             {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
             {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
    "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                       "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
  "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
  "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": )" +
         std::to_string(max_chars) + R"(, "vocab": {)" + vocab + "}}}";
}

const char* const kUncased =
    R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
        "strip_accents": null, "lowercase": true})";

std::unique_ptr<Tokenizer> load(const WordPieceTempDir& dir, const std::string& json) {
  auto tok = load_tokenizer_for(dir.write("tokenizer.json", json));
  EXPECT_TRUE(tok.ok()) << tok.error();
  return tok.ok() ? std::move(tok.value()) : nullptr;
}

std::vector<int32_t> enc(const Tokenizer& t, std::string_view s, bool special = false) {
  return t.encode(s, EncodeOptions{special, /*parse_special=*/true});
}

TEST(BertNormalizer, CleansSpacesChineseStripsAccentsLowercases) {
  BertNormalizerOptions o;  // all on
  EXPECT_EQ(bert_normalize("Crème BRÛLÉE", o), "creme brulee");
  EXPECT_EQ(bert_normalize("Cre\xCC\x80me", o), "creme");  // NFD input: the mark goes too
  EXPECT_EQ(bert_normalize("a\tb\nc\xC2\xA0"
                           "d\xE3\x80\x80"
                           "e",
                           o),
            "a b c d e");
  EXPECT_EQ(bert_normalize(std::string("x\0y\x07z\xC2\xAD"
                                       "w\xEF\xBF\xBD",
                                       11),
                           o),
            "xyzw");
  EXPECT_EQ(bert_normalize("ab中文cd", o), "ab 中  文 cd");
  EXPECT_EQ(bert_normalize("\xC4\xB0I", o), "ii");  // İ: NFD I + U+0307, the mark stripped
  o.strip_accents = false;
  EXPECT_EQ(bert_normalize("\xC4\xB0", o), "i\xCC\x87");  // İ's full lowercase mapping
  EXPECT_EQ(bert_normalize("Crème", o), "crème");
  o = {false, false, false, false};
  EXPECT_EQ(bert_normalize("A\t中\x07", o), "A\t中\x07");
}

TEST(BertPreTokenizer, SplitsWhitespaceIsolatesPunctuation) {
  std::vector<std::string> w;
  bert_pre_tokenize("  hello,world!! a$b  \xE3\x80\x82x\xC2\xBF", &w);
  EXPECT_EQ(w, (std::vector<std::string>{"hello", ",", "world", "!", "!", "a", "$", "b",
                                         "\xE3\x80\x82", "x", "\xC2\xBF"}));
  EXPECT_TRUE(bert_is_punctuation('^'));      // ASCII symbols count as punctuation
  EXPECT_TRUE(bert_is_punctuation(0x2014));   // em dash (Pd)
  EXPECT_FALSE(bert_is_punctuation(0x20AC));  // € is Sc, not ASCII
  EXPECT_TRUE(bert_is_whitespace(0x3000));
  EXPECT_FALSE(bert_is_whitespace(0x200B));  // zero-width space is Cf, not White_Space
}

TEST(WordPiece, GreedyLongestMatchUnknownAndLongWords) {
  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(kUncased, /*max_chars=*/9));
  ASSERT_TRUE(tok);
  EXPECT_EQ(enc(*tok, "unaffable"), (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(enc(*tok, "aaa"), (std::vector<int32_t>{15, 16, 16}));
  EXPECT_EQ(enc(*tok, "aaaaaaaaa"), (std::vector<int32_t>{15, 16, 16, 16, 16, 16, 16, 16, 16}));
  EXPECT_EQ(enc(*tok, "aaaaaaaaaa"), (std::vector<int32_t>{kUnk}));  // 10 characters > 9
  EXPECT_EQ(enc(*tok, "ééééééééé"), (std::vector<int32_t>{kUnk}));   // 9 characters, no "é"
  EXPECT_EQ(enc(*tok, "unaffablex"), (std::vector<int32_t>{kUnk}));  // no "##x": all unknown
  EXPECT_EQ(enc(*tok, "zzz hello"), (std::vector<int32_t>{kUnk, 8}));
  EXPECT_EQ(enc(*tok, "Hello, WORLD!"), (std::vector<int32_t>{8, 10, 9, 11}));
  EXPECT_EQ(enc(*tok, "CRÈME"), (std::vector<int32_t>{12}));
  EXPECT_EQ(enc(*tok, "中文"), (std::vector<int32_t>{13, 14}));
  EXPECT_EQ(enc(*tok, "x's."), (std::vector<int32_t>{17, 19, 20, 21}));
  EXPECT_EQ(enc(*tok, ""), (std::vector<int32_t>{}));
  EXPECT_EQ(enc(*tok, "hello", /*special=*/true), (std::vector<int32_t>{kCls, 8, kSep}));
}

TEST(WordPiece, SpecialTokenTextAndParseSpecial) {
  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(kUncased));
  ASSERT_TRUE(tok);
  EXPECT_EQ(enc(*tok, "[CLS]hello[SEP]"), (std::vector<int32_t>{kCls, 8, kSep}));
  // Special tokens are not normalized: "[cls]" is text.
  EXPECT_EQ(enc(*tok, "[cls]"), (std::vector<int32_t>{22, 23, 24, 25}));
  EXPECT_EQ(tok->encode("[CLS]", EncodeOptions{false, false}),
            (std::vector<int32_t>{22, 23, 24, 25}));
  EXPECT_TRUE(tok->is_special(kCls));
  EXPECT_FALSE(tok->is_special(8));
  EXPECT_FALSE(tok->bos_id().has_value());
}

TEST(WordPiece, CasedNormalizerKeepsAccents) {
  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(R"({"type": "BertNormalizer", "lowercase": false})"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(enc(*tok, "Crème CREME"), (std::vector<int32_t>{27, 26}));
  auto strip = load(
      dir,
      tokenizer_json(R"({"type": "BertNormalizer", "lowercase": false, "strip_accents": true})"));
  ASSERT_TRUE(strip);
  EXPECT_EQ(enc(*strip, "Crème"), (std::vector<int32_t>{kUnk}));  // "Creme" is not in the vocab
}

TEST(WordPiece, PairsHaveTypeIds) {
  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(kUncased));
  ASSERT_TRUE(tok);
  const std::string_view b = "world!";
  auto e = encode_for_encoder(*tok, "hello", &b, {});
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->ids, (std::vector<int32_t>{kCls, 8, kSep, 9, 11, kSep}));
  EXPECT_EQ(e->type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(tok->num_special_tokens(false), 2u);
  EXPECT_EQ(tok->num_special_tokens(true), 3u);
  auto s = encode_for_encoder(*tok, "hello", nullptr, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ids, (std::vector<int32_t>{kCls, 8, kSep}));
  EXPECT_EQ(s->type_ids, (std::vector<int32_t>{0, 0, 0}));
}

TEST(WordPiece, TruncationIsLongestFirst) {
  auto run = [](size_t na, size_t nb, size_t max) {
    std::vector<int32_t> a(na, 1), b(nb, 2);
    truncate_longest_first(&a, &b, max);
    return std::pair{a.size(), b.size()};
  };
  EXPECT_EQ(run(3, 4, 10), (std::pair<size_t, size_t>{3, 4}));   // fits
  EXPECT_EQ(run(3, 20, 10), (std::pair<size_t, size_t>{3, 7}));  // only the longer shrinks
  EXPECT_EQ(run(20, 3, 10), (std::pair<size_t, size_t>{7, 3}));
  EXPECT_EQ(run(8, 9, 11), (std::pair<size_t, size_t>{5, 6}));  // both: the longer keeps the odd
  EXPECT_EQ(run(9, 8, 11), (std::pair<size_t, size_t>{6, 5}));
  EXPECT_EQ(run(9, 9, 11), (std::pair<size_t, size_t>{5, 6}));
  EXPECT_EQ(run(5, 5, 0), (std::pair<size_t, size_t>{0, 0}));
  std::vector<int32_t> a(5, 1);
  truncate_longest_first(&a, nullptr, 3);
  EXPECT_EQ(a.size(), 3u);

  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(kUncased));
  ASSERT_TRUE(tok);
  const std::string_view b = "a a a a";
  EncoderInputOptions opts;
  opts.max_length = 7;  // 3 special + 4 content: a keeps 2 ("hello world"), b keeps 2
  auto e = encode_for_encoder(*tok, "hello world , !", &b, opts);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<int32_t>{kCls, 8, 9, kSep, 15, 15, kSep}));
  opts.max_length = 2;
  EXPECT_FALSE(encode_for_encoder(*tok, "hello", &b, opts).ok());
}

TEST(WordPiece, DecodeJoinsPiecesAndCleansUp) {
  WordPieceTempDir dir;
  auto tok = load(dir, tokenizer_json(kUncased));
  ASSERT_TRUE(tok);
  const std::vector<int32_t> ids = {kCls, 5, 6, 7, 10, 8, 19, 20, 9, 11, 21, kSep};
  // HF cleans up each token alone: " ." loses its space, " ' s" (two tokens) keeps both.
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/true), "unaffable, hello ' s world!.");
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/false), "[CLS] unaffable, hello ' s world!. [SEP]");
  // Streaming gives the same text.
  StreamingDetokenizer s(*tok);
  std::string streamed;
  for (int32_t id : ids) streamed += s.push(id);
  streamed += s.flush();
  EXPECT_EQ(streamed, "unaffable, hello ' s world!.");
}

TEST(WordPiece, VocabTxtWithBertDefaults) {
  WordPieceTempDir dir;
  dir.write("vocab.txt", vocab_txt());
  auto tok = load_tokenizer_for(dir.path.string());
  ASSERT_TRUE(tok.ok()) << tok.error();
  EXPECT_EQ((*tok)->encode("Hello, CRÈME [SEP]", EncodeOptions{true, true}),
            (std::vector<int32_t>{kCls, 8, 10, 12, kSep, kSep}));
  const std::string_view b = "x";
  auto e = encode_for_encoder(**tok, "a", &b, {});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1}));

  dir.write("tokenizer_config.json", R"({"do_lower_case": false})");  // cased: accents kept
  auto cased = load_tokenizer_for(dir.path.string());
  ASSERT_TRUE(cased.ok()) << cased.error();
  EXPECT_EQ((*cased)->encode("Crème", EncodeOptions{}), (std::vector<int32_t>{27}));
}

TEST(WordPiece, LoadErrors) {
  WordPieceTempDir dir;
  auto bad = [&](const std::string& json, const std::string& needle) {
    auto r = load_tokenizer_json(dir.write("t.json", json));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(needle), std::string::npos) << r.error();
  };
  std::string j = tokenizer_json(kUncased);
  bad(std::string(j).replace(j.find("BertPreTokenizer"), 16, "Whitespace"), "pre_tokenizer");
  bad(std::string(j).replace(j.find("\"BertNormalizer\""), 16, "\"NFC\""), "normalizer 'NFC'");
  bad(std::string(j).replace(j.find("\"WordPiece\", \"prefix\""), 11, "\"ByteLevel\""),
      "decoder 'ByteLevel'");
  bad(std::string(j).replace(j.find("\"unk_token\": \"[UNK]\""), 20, "\"unk_token\": \"<unk>\""),
      "unk_token '<unk>'");
}

TEST(ModelTokenizerPairs, BpeTokenizersRejectPairs) {
  WordPieceTempDir dir;
  auto tok = load_tokenizer_json(dir.write("bpe.json", R"({"model": {"type": "BPE",
      "vocab": {"a": 0, "b": 1}, "merges": []}})"));
  ASSERT_TRUE(tok.ok()) << tok.error();
  const std::vector<int32_t> a = {0}, b = {1};
  EXPECT_FALSE((*tok)->add_special_tokens(a, &b).ok());
  auto single = (*tok)->add_special_tokens(a, nullptr);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->ids, a);
}

}  // namespace
}  // namespace sluice
