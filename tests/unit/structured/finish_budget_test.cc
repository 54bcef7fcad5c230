// Fewest bytes to finish, budget masks and finishing masks: exact against brute force, and random
// walks over the schema corpus that start with enough budget always end complete.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "structured/grammar.h"
#include "structured/grammar_matcher.h"
#include "structured_test_util.h"
#include "tokenizer/tokenizer.h"

namespace sluice::structured {
namespace {

using json = nlohmann::ordered_json;

std::shared_ptr<const Grammar> must(Result<std::shared_ptr<const Grammar>> g) {
  EXPECT_TRUE(g.ok()) << g.error();
  return *g;
}

std::shared_ptr<const Grammar> schema_grammar(const json& schema) {
  auto node = json_schema(schema);
  EXPECT_TRUE(node.ok()) << node.error();
  return must(compile(*node));
}

std::vector<std::filesystem::path> corpus() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SLUICE_SOURCE_DIR) +
                                                           "/tests/data/json_schemas"))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

json read_json(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

int32_t after_bytes(const GrammarMatcher& m, const std::string& text) {
  auto c = m.clone();
  for (char ch : text) EXPECT_TRUE(c->accept(static_cast<uint8_t>(ch))) << text;
  return c->min_bytes_to_finish();
}

std::vector<int32_t> allowed_of(const std::vector<uint32_t>& mask, const TokenVocab& v) {
  std::vector<int32_t> out;
  for (int32_t t = 0; t < v.size(); ++t)
    if (mask_has(mask, t)) out.push_back(t);
  return out;
}

TEST(FinishBudget, MinBytesOfSmallGrammars) {
  auto vocab = byte_vocab();
  auto abc = must(compile(literal("abc")));
  GrammarMatcher m(abc, vocab);
  EXPECT_EQ(m.min_bytes_to_finish(), 3);
  EXPECT_EQ(after_bytes(m, "a"), 2);
  EXPECT_EQ(after_bytes(m, "abc"), 0);
  auto pick = must(compile(sequence({literal("ab"), choice({literal("yyy"), literal("x")})})));
  EXPECT_EQ(GrammarMatcher(pick, vocab).min_bytes_to_finish(), 3);
  EXPECT_EQ(after_bytes(GrammarMatcher(pick, vocab), "aby"), 2);
  auto rep = must(compile(repeat(literal("ab"), 2, -1)));
  EXPECT_EQ(GrammarMatcher(rep, vocab).min_bytes_to_finish(), 4);
  EXPECT_EQ(after_bytes(GrammarMatcher(rep, vocab), "abab"), 0);
  auto obj = schema_grammar(json::parse(
      R"({"type": "object", "properties": {"a": {"type": "string", "minLength": 3}},
          "required": ["a"]})"));
  GrammarMatcher o(obj, vocab);
  EXPECT_EQ(o.min_bytes_to_finish(), 11);  // {"a":"xxx"}
  EXPECT_EQ(after_bytes(o, R"({"a": )"), 6);
  EXPECT_EQ(after_bytes(o, R"({"a": "x)"), 4);  // 2 more characters, "}
}

// Exact: no byte lowers the count by more than one, and some byte lowers it by exactly one (so the
// count is both a lower bound and reachable), on random states of every corpus grammar.
// The sanitizer build runs these ~20x slower: fewer repetitions there, the same checks.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kReps = 1;
#else
constexpr int kReps = 3;
#endif

TEST(FinishBudget, MinBytesIsExactOnTheCorpus) {
  auto vocab = byte_vocab();
  std::mt19937_64 rng(5);
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  int states = 0;
  for (const auto& path : corpus()) {
    auto g = schema_grammar(read_json(path));
    for (int walk = 0; walk < kReps; ++walk) {
      GrammarMatcher m(g, vocab);
      for (int step = 0; step < 60; ++step) {
        const int32_t need = m.min_bytes_to_finish();
        ASSERT_EQ(need == 0, m.can_finish()) << path;
        bool progress = need == 0;
        m.fill_mask(mask);
        std::vector<int32_t> allowed;
        for (int32_t b = 0; b < 256; ++b) {
          if (!mask_has(mask, b)) continue;
          allowed.push_back(b);
          auto c = m.clone();
          ASSERT_TRUE(c->accept(b));
          const int32_t after = c->min_bytes_to_finish();
          ASSERT_GE(after, need - 1) << path << " byte " << b;
          progress |= after == need - 1;
        }
        ASSERT_TRUE(progress) << path << ": no byte makes progress from " << need;
        ++states;
        if (allowed.empty()) break;
        ASSERT_TRUE(m.accept(allowed[rng() % allowed.size()]));
      }
    }
  }
  EXPECT_GT(states, 1000 * kReps / 3);
}

// Valid JSON syntax (numbers too large for a double are still JSON).
bool is_json(const std::string& text) {
  try {
    (void)json::parse(text);
    return true;
  } catch (const json::out_of_range& e) {
    return e.id == 406;  // number overflow
  } catch (const json::exception&) {
    return false;
  }
}

// Bytes plus JSON-ish multi-byte pieces, so tokens can jump (open long optional parts) and finish
// several bytes at once.
std::shared_ptr<const TokenVocab> piece_vocab() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
  for (const char* p : {"{\"",          "\":",          "\": ",  "\", \"", "\"}",  "\"]",
                        "}]",           "]}",           "}}",    "}, {",   "[{\"", "true",
                        "false",        "null",         "\\u00", "\\n",    "\\\"", "12",
                        "0.5",          "e+",           "-1",    "999",    "abc",  "name",
                        "id\": \"",     "\"name\": \"", "    ",  "\n  ",   ", ",   "[]",
                        "{}",           "1999-",        "-01-",  "T12:",   ":00Z", "@",
                        ".com",         "http://",      "::",    "255.",   "ab",   "é",
                        "\xe2\x80\xa8", "\", ",         "\"\"",  "a\"",    "1,",   "0}",
                        "\"a",          "xyz\": {\"",   "[[",    "]]"})
    bytes.push_back(p);
  bytes.push_back("<eos>");
  const int32_t eos = static_cast<int32_t>(bytes.size()) - 1;
  return TokenVocab::from_bytes(std::move(bytes), {eos});
}

TEST(FinishBudget, WalksWithEnoughBudgetEndCompleteOnTheCorpus) {
  auto vocab = piece_vocab();
  const int32_t eos = vocab->eog_ids()[0];
  std::mt19937_64 rng(17);
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  int walks = 0;
  for (const auto& path : corpus()) {
    auto g = schema_grammar(read_json(path));
    for (int32_t slack : {0, 1, 4, 20, 80}) {
      for (int rep = 0; rep < kReps; ++rep) {
        GrammarMatcher m(g, vocab);
        const int32_t limit = m.min_bytes_to_finish() + 1 + slack;
        std::string text;
        bool ended = false;
        for (int32_t step = 0; step < limit && !ended; ++step) {
          const int32_t left = limit - step;
          ASSERT_LE(m.min_bytes_to_finish() + 1, left) << path << " after " << text;
          m.fill_mask(mask, left);
          std::vector<int32_t> allowed = allowed_of(mask, *vocab);
          ASSERT_FALSE(allowed.empty()) << path << " after " << text;
          const bool can_end = mask_has(mask, eos);
          ASSERT_EQ(can_end, m.can_finish());
          int32_t t = allowed[rng() % allowed.size()];
          if (can_end && (allowed.size() == 1 || rng() % 4 == 0)) t = eos;
          ASSERT_TRUE(m.accept(t)) << path;
          if (t == eos)
            ended = true;
          else
            text += vocab->token_bytes(t);
        }
        ASSERT_TRUE(ended) << path << " slack " << slack << ": " << text;
        EXPECT_TRUE(is_json(text)) << path << ": " << text;
        ++walks;
      }
    }
  }
  EXPECT_GE(walks, 55 * 5 * kReps);
}

// Budget masks on a real vocabulary equal brute force: each token tried on a copy, kept when the
// bytes it leaves to finish are within the limit.
TEST(FinishBudget, BudgetMaskEqualsBruteForceOnQwen3) {
  const char* env = std::getenv("SLUICE_TESTDATA");
  const std::string dir = env ? env : std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
  auto tok = load_tokenizer_for(dir + "/tokenizers/qwen3/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.error();
  auto vocab = TokenVocab::build(**tok);
  std::mt19937_64 rng(99);
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  const std::string base = std::string(SLUICE_SOURCE_DIR) + "/tests/data/json_schemas/";
  int states = 0;
  for (const char* name : {"20_nested_address.json", "36_format_email_uuid.json",
                           "23_recursive_tree.json", "41_free_any.json"}) {
    auto g = schema_grammar(read_json(base + name));
    GrammarMatcher m(g, vocab);
    for (int step = 0; step < 8 * kReps; ++step) {  // brute force at steps 3, 9, 15, 21
      m.fill_mask(mask);
      std::vector<int32_t> allowed;
      for (int32_t t : allowed_of(mask, *vocab))
        if (!vocab->is_eog(t)) allowed.push_back(t);
      if (step % 6 == 3) {
        std::vector<int32_t> after(vocab->size(), -1);  // -1: rejected
        for (int32_t t = 0; t < vocab->size(); ++t) {
          if (vocab->is_eog(t)) continue;
          auto c = m.clone();
          if (c->accept(t)) after[t] = c->min_bytes_to_finish();
        }
        const int32_t need = m.min_bytes_to_finish();
        for (int32_t limit : {need - 1, need, need + 3, need + 40}) {
          if (limit == need - 1)
            m.fill_finishing_mask(mask);
          else
            m.fill_budget_mask(mask, limit);
          for (int32_t t = 0; t < vocab->size(); ++t) {
            const bool want =
                vocab->is_eog(t) ? m.can_finish() : after[t] >= 0 && after[t] <= limit;
            ASSERT_EQ(mask_has(mask, t), want)
                << name << " step " << step << " limit " << limit << " (needs " << need
                << ") token " << t << " '" << vocab->token_bytes(t) << "' leaves " << after[t];
          }
        }
        ++states;
      }
      if (allowed.empty()) break;
      ASSERT_TRUE(m.accept(allowed[rng() % allowed.size()]));
    }
  }
  EXPECT_GE(states, 8 * kReps / 3);
}

}  // namespace
}  // namespace sluice::structured
