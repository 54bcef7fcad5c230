// sluice's Lark front end on the corpus that tests/e2e/test_lark_corpus.py checks against Lark
// itself: the same strings accepted and rejected.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "structured/lark_grammar.h"
#include "structured_test_util.h"

namespace sluice::structured {
namespace {

TEST(LarkCorpus, AcceptsAndRejectsWhatLarkDoes) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/data/lark/corpus.json");
  ASSERT_TRUE(f) << "tests/data/lark/corpus.json is missing";
  const nlohmann::json corpus = nlohmann::json::parse(f);
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& c : corpus) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto node = lark_grammar(c["grammar"].get<std::string>());
    ASSERT_TRUE(node.ok()) << node.error();
    auto g = compile(*node);
    ASSERT_TRUE(g.ok()) << g.error();
    for (const auto& text : c["accept"])
      EXPECT_TRUE(byte_accepts(*g, text.get<std::string>())) << text;
    for (const auto& text : c["reject"])
      EXPECT_FALSE(byte_accepts(*g, text.get<std::string>())) << text;
  }
}

}  // namespace
}  // namespace sluice::structured
