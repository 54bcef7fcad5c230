// Prompt-only requests (PromptOutput) on the tiny llama model: the last position's logits agree
// with greedy generation, a batch equals each request alone, nothing stays allocated, a repeated
// prefix is a prefix-cache hit, and what submit refuses. Plus prompt_pooling's arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../tiny_model.h"
#include "engine/engine.h"
#include "engine/prompt_pooling.h"
#include "engine_test_support.h"

namespace sluice {
namespace {

using testing::drain;
using testing::request;

class PromptOutputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = testing::load_tiny_model("prompt-output", "llama");
    ASSERT_TRUE(loaded) << loaded.error();
    model_ = loaded->release();
  }
  static std::unique_ptr<Engine> engine() {
    EngineConfig c;
    c.kv_cache_bytes = 64 << 20;
    c.num_threads = 2;
    c.deterministic = true;
    auto e = Engine::create(*model_, c);
    EXPECT_TRUE(e) << e.error();
    return std::move(*e);
  }
  static std::vector<int32_t> prompt(int seed, int len) {
    std::mt19937 rng(seed);
    return testing::random_tokens(rng, len, model_->config().vocab_size);
  }
  static std::vector<int32_t> all_ids() {
    std::vector<int32_t> ids(model_->config().vocab_size);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
    return ids;
  }
  static Model* model_;
};
Model* PromptOutputTest::model_ = nullptr;

TEST_F(PromptOutputTest, LastLogitsArgmaxIsTheGreedyToken) {
  auto e = engine();
  for (int seed : {1, 2, 3}) {
    const std::vector<int32_t> p = prompt(seed, 20 + seed * 7);
    EngineRequest g = request("g", p);
    g.params.max_tokens = 1;
    g.params.temperature = 0.0f;
    auto gs = e->submit(g);
    ASSERT_TRUE(gs);
    const int32_t greedy = drain(**gs).tokens.at(0).at(0);
    auto rows = run_prompt_only(*e, {p}, PromptOutput::kLastLogits, all_ids(), "input");
    ASSERT_TRUE(rows) << rows.error();
    const std::vector<float>& logits = (*rows)[0];
    ASSERT_EQ(logits.size(), static_cast<size_t>(model_->config().vocab_size));
    EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(), greedy);
  }
}

TEST_F(PromptOutputTest, BatchEqualsSingleAndFreesEverything) {
  auto e = engine();
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) prompts.push_back(prompt(10 + i, 5 + 13 * i));
  std::vector<std::vector<float>> single;
  for (const auto& p : prompts) {
    auto r = run_prompt_only(*e, {p}, PromptOutput::kLastHidden, {}, "input");
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ((*r)[0].size(), static_cast<size_t>(model_->config().hidden_size));
    single.push_back((*r)[0]);
  }
  auto batch = run_prompt_only(*e, prompts, PromptOutput::kLastHidden, {}, "input");
  ASSERT_TRUE(batch) << batch.error();
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ((*batch)[i], single[i]) << i;
  const EngineMetrics m = e->metrics();
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.num_running + m.num_waiting, 0);
}

TEST_F(PromptOutputTest, RepeatedPrefixIsCached) {
  auto e = engine();
  const std::vector<int32_t> p = prompt(7, 40);  // two full blocks of 16
  for (int round = 0; round < 2; ++round) {
    EngineRequest r = request("p" + std::to_string(round), p);
    r.output = PromptOutput::kLastHidden;
    auto s = e->submit(r);
    ASSERT_TRUE(s);
    const testing::Result out = drain(**s);
    EXPECT_EQ(out.finish, "stop");
    EXPECT_EQ(out.stats.num_cached_tokens, round == 0 ? 0 : 32);
    EXPECT_EQ(out.stats.num_output_tokens, 0);
  }
}

TEST_F(PromptOutputTest, SubmitRefuses) {
  auto e = engine();
  const int32_t vocab = static_cast<int32_t>(model_->config().vocab_size);
  auto refused = [&](EngineRequest r, const std::string& param, const std::string& needle) {
    auto s = e->submit(r);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.request_error().param, param);
    EXPECT_NE(s.request_error().message.find(needle), std::string::npos)
        << s.request_error().message;
  };
  EngineRequest r = request("a", {1, 2, 3});
  r.output = PromptOutput::kLastHidden;
  r.params.n = 2;
  refused(r, "n", "n must be 1");
  r.params.n = 1;
  r.output = PromptOutput::kLastLogits;
  refused(r, "logit_ids", "no token ids");
  r.logit_ids = {vocab};
  refused(r, "logit_ids", "out of range");
  r.logit_ids = {0};
  r.prompt.assign(e->max_model_len() + 1, 5);
  refused(r, "prompt", "the prompt (");
  // max_tokens does not count: a prompt of exactly the context length is accepted.
  r.prompt.assign(e->max_model_len(), 5);
  r.params.max_tokens = 100;
  EXPECT_TRUE(e->submit(r));
  auto named = run_prompt_only(*e, {{1, 2}, {1, vocab}}, PromptOutput::kLastHidden, {}, "input");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.request_error().param, "input");
  EXPECT_EQ(named.request_error().message.rfind("input[1]: ", 0), 0u)
      << named.request_error().message;
}

TEST(PromptPooling, FinishEmbeddingTruncatesThenNormalizes) {
  const std::vector<float> v = {3, 4, 12};
  EXPECT_EQ(finish_embedding(v, 0, false), v);
  const std::vector<float> two = finish_embedding(v, 2, true);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_FLOAT_EQ(two[0], 0.6f);
  EXPECT_FLOAT_EQ(two[1], 0.8f);
  const std::vector<float> all = finish_embedding(v, 3, true);
  EXPECT_FLOAT_EQ(all[2], 12.0f / 13.0f);
  EXPECT_EQ(finish_embedding({0, 0}, 0, true), (std::vector<float>{0, 0}));  // no NaN
}

TEST(PromptPooling, YesProbabilityIsTheTwoWaySoftmax) {
  EXPECT_FLOAT_EQ(yes_probability(1.0f, 1.0f), 0.5f);
  EXPECT_NEAR(yes_probability(2.0f, 0.0f), 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
  EXPECT_FLOAT_EQ(yes_probability(-1000.0f, 1000.0f), 0.0f);
  EXPECT_FLOAT_EQ(yes_probability(1000.0f, -1000.0f), 1.0f);
}

}  // namespace
}  // namespace sluice
