// The engine end to end on tiny synthetic models (MLX 4-bit, a 1.7k-token SentencePiece-style
// vocabulary), dense (llama), mixture of experts (qwen3moe), sliding-window (gemma3, window 32)
// gpt-oss (window 16, sinks, MXFP4 experts) and the hybrid Qwen3.5 (gated delta-net layers with a
// recurrent state; dense and MoE): batch invariance, chunked prefill, preemption, aborts, prefix
// sharing, n > 1.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "../tiny_model.h"
#include "engine_test_support.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

using testing::drain;
using testing::request;
using testing::Result;
using testing::run_all;
using testing::tokens_of;

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  // One model per architecture for the whole run (never freed).
  void SetUp() override {
    static auto* models = new std::map<std::string, Model*>;
    Model*& m = (*models)[GetParam()];
    if (!m) {
      auto loaded = testing::load_tiny_model("engine-test", GetParam());
      ASSERT_TRUE(loaded) << loaded.error();
      m = loaded->release();
    }
    model_ = m;
  }

  static std::unique_ptr<Engine> engine(EngineConfig c = {}) {
    if (c.kv_cache_bytes == 0) c.kv_cache_bytes = 64 << 20;
    c.num_threads = 2;
    auto e = Engine::create(*model_, c);
    EXPECT_TRUE(e) << e.error();
    return std::move(*e);
  }

  // A budget of `blocks` KV blocks of 16 tokens; a hybrid model's also holds the recurrent states
  // of max_num_seqs sequences (and a scratch one) and `snapshots` prefix snapshots.
  static void budget_blocks(EngineConfig& cfg, int64_t blocks, int64_t snapshots = 4) {
    const ModelConfig& c = model_->config();
    const int64_t pages = c.hybrid() ? KvLayout::of(c, true).pages_per_block : c.num_layers;
    cfg.kv_cache_bytes = blocks * KvStorage::bytes_per_block(pages, 16, c.num_kv_heads, c.head_dim);
    if (!c.hybrid()) return;
    const int64_t slot = StateStorage::bytes_per_slot(c);
    cfg.state_cache_bytes = snapshots * slot;
    cfg.kv_cache_bytes += (cfg.max_num_seqs + 1 + snapshots) * slot;
  }

  static std::vector<int32_t> random_prompt(std::mt19937& rng, int len) {
    return testing::random_tokens(rng, len, model_->config().vocab_size);
  }

  // reqs one at a time (max_num_seqs 1; serial_chunk > 0: that many tokens per step) and then
  // 16 at once, both --deterministic on `base`.
  struct SerialAndConcurrent {
    std::vector<Result> serial, concurrent;
  };
  static SerialAndConcurrent serial_and_concurrent(const std::vector<EngineRequest>& reqs,
                                                   EngineConfig base, int serial_chunk = 0) {
    base.deterministic = true;
    EngineConfig serial_cfg = base, conc_cfg = base;
    serial_cfg.max_num_seqs = 1;
    if (serial_chunk > 0) serial_cfg.max_num_batched_tokens = serial_chunk;
    conc_cfg.max_num_seqs = 16;
    SerialAndConcurrent out;
    auto serial = engine(serial_cfg);
    for (const auto& r : reqs) out.serial.push_back(run_all(*serial, {r})[0]);
    out.concurrent = run_all(*engine(conc_cfg), reqs);
    return out;
  }

  static std::vector<EngineRequest> workload(int count, float temperature, int max_tokens) {
    std::mt19937 rng(42);
    std::vector<EngineRequest> reqs;
    for (int i = 0; i < count; ++i) {
      EngineRequest r;
      r.id = "r" + std::to_string(i);
      r.prompt = random_prompt(rng, 5 + static_cast<int>(rng() % 60));
      r.params.temperature = temperature;
      r.params.seed = 1000 + i;
      r.params.max_tokens = max_tokens;
      r.params.ignore_eos = true;
      reqs.push_back(r);
    }
    return reqs;
  }

  static Model* model_;
};
Model* EngineTest::model_ = nullptr;

TEST_P(EngineTest, ConcurrentEqualsSerialGreedyAndSeeded) {
  for (float temperature : {0.0f, 0.9f}) {
    const auto runs = serial_and_concurrent(workload(32, temperature, 16), {});
    EXPECT_EQ(tokens_of(runs.concurrent), tokens_of(runs.serial)) << "temperature " << temperature;
    for (const auto& r : runs.concurrent) EXPECT_EQ(r.tokens.at(0).size(), 16u);
  }
}

// An f16 KV cache (--kv-cache-dtype f16): still batch-invariant (16 concurrent == serial) and
// chunked prefill == whole; an unknown element type is an error.
TEST_P(EngineTest, F16KvCacheConcurrentEqualsSerial) {
  EngineConfig f16;
  f16.kv_cache_dtype = "f16";
  const auto runs = serial_and_concurrent(workload(16, 0.0f, 12), f16, /*serial_chunk=*/9);
  EXPECT_EQ(tokens_of(runs.concurrent), tokens_of(runs.serial));
  EngineConfig bad;
  bad.kv_cache_dtype = "f8";
  EXPECT_FALSE(bad.validate());
}

// Greedy requests with nothing else to do take their tokens from Backend::argmax_rows; asking
// for logprobs (in some or all requests) sends the whole logits through the host sampler: the
// same tokens either way.
TEST_P(EngineTest, BackendGreedyPicksEqualTheHostSampler) {
  const auto plain = workload(8, 0.0f, 12);
  auto all_logprobs = plain, some_logprobs = plain;
  for (auto& r : all_logprobs) r.params.logprobs = 0;
  for (size_t i = 0; i < some_logprobs.size(); i += 2) some_logprobs[i].params.logprobs = 2;
  EngineConfig c;
  c.max_num_seqs = 8;
  const auto want = tokens_of(run_all(*engine(c), all_logprobs));
  EXPECT_EQ(tokens_of(run_all(*engine(c), plain)), want);
  EXPECT_EQ(tokens_of(run_all(*engine(c), some_logprobs)), want);
}

TEST_P(EngineTest, ChunkedPrefillEqualsUnchunked) {
  auto reqs = workload(6, 0.0f, 8);
  for (auto& r : reqs) r.prompt.resize(r.prompt.size() + 40, 7);  // longer prompts: several chunks
  EngineConfig chunked;
  chunked.max_num_batched_tokens = 7;
  chunked.deterministic = true;
  EngineConfig whole;
  whole.deterministic = true;
  EXPECT_EQ(tokens_of(run_all(*engine(chunked), reqs)), tokens_of(run_all(*engine(whole), reqs)));
}

TEST_P(EngineTest, TooSmallPoolPreemptsAndStillCompletesCorrectly) {
  const auto reqs = workload(16, 0.0f, 24);
  const auto want = tokens_of(run_all(*engine(), reqs));
  EngineConfig small;
  small.max_num_seqs = 16;
  budget_blocks(small, 17);  // 16 blocks of 16 tokens: about three sequences' worth
  auto e = engine(small);
  const auto got = run_all(*e, reqs);
  EXPECT_EQ(tokens_of(got), want);
  int64_t preemptions = 0;
  for (const auto& r : got) preemptions += r.stats.num_preemptions;
  EXPECT_GT(preemptions, 0);
  EXPECT_EQ(e->metrics().kv_blocks_used, 0);
}

TEST_P(EngineTest, RandomRequestsWithAbortsLeakNoBlocks) {
  EngineConfig cfg;
  cfg.max_num_seqs = 24;
  cfg.max_num_batched_tokens = 64;
  budget_blocks(cfg, 40);
  auto e = engine(cfg);
  std::mt19937 rng(7);
  int aborted = 0;
  const auto streams = testing::submit_with_random_aborts(
      *e, rng, [](std::mt19937& g) { return random_prompt(g, 1 + static_cast<int>(g() % 40)); }, 8,
      aborted);
  for (auto& s : streams) drain(*s);
  const EngineMetrics m = e->metrics();
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.num_running + m.num_waiting, 0);
  EXPECT_EQ(m.state_slots_used, 0);  // hybrid models: every live state slot back
  EXPECT_LE(m.state_snapshots_held, m.state_snapshots_total);
  if (model_->config().hybrid()) {
    EXPECT_GT(m.state_snapshots_held, 0);
  }
  EXPECT_GT(aborted, testing::kLeakTestRequests / 10);
}

TEST_P(EngineTest, SharedPrefixComputesOnlyTheSuffix) {
  auto e = engine();
  std::mt19937 rng(3);
  const auto prefix = random_prompt(rng, 1000);
  EngineRequest a = request("a", prefix);
  a.prompt.push_back(11);
  a.params.max_tokens = 1;
  EngineRequest b = request("b", prefix);
  for (int t : {12, 13, 14, 15, 16}) b.prompt.push_back(t);
  b.params.max_tokens = 1;
  const Result ra = run_all(*e, {a})[0];
  EXPECT_EQ(ra.stats.num_cached_tokens, 0);
  EXPECT_EQ(ra.stats.num_computed_tokens, 1001);
  const Result rb = run_all(*e, {b})[0];
  EXPECT_EQ(rb.stats.num_cached_tokens, 992);  // 62 full blocks of 16 tokens
  EXPECT_EQ(rb.stats.num_computed_tokens, 1005 - 992);

  EngineConfig off;
  off.enable_prefix_caching = false;
  auto cold = engine(off);
  run_all(*cold, {a});
  EXPECT_EQ(run_all(*cold, {b})[0].stats.num_computed_tokens, 1005);
}

// An agent's next turn extends the conversation: it reuses the previous prompt's blocks (and, on
// hybrid models, the recurrent-state snapshot at the end of its last full block) and still gives
// exactly the tokens of a cold run.
TEST_P(EngineTest, NextTurnHitsThePreviousPromptAndMatchesAColdRun) {
  EngineConfig cfg;
  cfg.deterministic = true;
  cfg.state_snapshot_interval = 2;  // hybrid: snapshots every 32 tokens of a prefill too
  cfg.max_num_batched_tokens = 40;
  auto e = engine(cfg);
  std::mt19937 rng(21);
  EngineRequest turn1 = request("t1", random_prompt(rng, 150));
  turn1.params.max_tokens = 6;
  turn1.params.temperature = 0.0f;
  turn1.params.ignore_eos = true;
  const Result r1 = run_all(*e, {turn1})[0];
  EngineRequest turn2 = request("t2", turn1.prompt);
  for (int32_t t : r1.tokens.at(0)) turn2.prompt.push_back(t);
  for (int32_t t : random_prompt(rng, 30)) turn2.prompt.push_back(t);
  turn2.params = turn1.params;
  const Result r2 = run_all(*e, {turn2})[0];
  EXPECT_EQ(r2.stats.num_cached_tokens, 144);  // the first prompt's 9 full blocks
  EngineConfig cold_cfg = cfg;
  cold_cfg.enable_prefix_caching = false;
  const Result cold = run_all(*engine(cold_cfg), {turn2})[0];
  EXPECT_EQ(cold.stats.num_cached_tokens, 0);
  EXPECT_EQ(r2.tokens, cold.tokens);
  // A prompt that leaves the first turn's after 40 tokens: hybrid models restart from the
  // interval snapshot at 32, attention-only ones from the 2 shared blocks.
  EngineRequest branch =
      request("b", std::vector<int32_t>(turn1.prompt.begin(), turn1.prompt.begin() + 40));
  for (int32_t t : random_prompt(rng, 20)) branch.prompt.push_back(t);
  branch.params = turn1.params;
  const Result rb = run_all(*e, {branch})[0];
  EXPECT_EQ(rb.stats.num_cached_tokens, 32);
  EXPECT_EQ(rb.tokens, run_all(*engine(cold_cfg), {branch})[0].tokens);
}

TEST_P(EngineTest, NGreaterThanOneSharesThePromptAndMatchesSeparateSeeds) {
  auto e = engine();
  std::mt19937 rng(9);
  EngineRequest r =
      request("n3", random_prompt(rng, 37));  // 2 full blocks + a partial one (copied)
  r.params.n = 3;
  r.params.temperature = 1.0f;
  r.params.seed = 77;
  r.params.max_tokens = 12;
  r.params.ignore_eos = true;
  const Result got = run_all(*e, {r})[0];
  ASSERT_EQ(got.tokens.size(), 3u);
  // The prompt was computed once; each sequence then decoded 11 more tokens.
  EXPECT_EQ(got.stats.num_computed_tokens, 37 + 3 * 11);
  for (int i = 0; i < 3; ++i) {
    EngineRequest one = r;
    one.id = "one" + std::to_string(i);
    one.params.n = 1;
    one.params.seed = 77 + i;
    EXPECT_EQ(run_all(*e, {one})[0].tokens.at(0), got.tokens.at(i)) << i;
  }
}

TEST_P(EngineTest, StopsOnTokenIdsAndLengthAndRejectsBadRequests) {
  auto e = engine();
  std::mt19937 rng(1);
  EngineRequest r = request("s", random_prompt(rng, 10));
  r.params.temperature = 0.0f;
  r.params.max_tokens = 6;
  r.params.ignore_eos = true;
  const Result base = run_all(*e, {r})[0];
  EXPECT_EQ(base.finish, "length");
  ASSERT_EQ(base.tokens.at(0).size(), 6u);
  // Stop on the last token that did not come earlier: generation ends right after it.
  const std::vector<int32_t>& out = base.tokens.at(0);
  size_t at = 0;
  for (size_t i = 0; i < out.size(); ++i)
    if (std::find(out.begin(), out.begin() + i, out[i]) == out.begin() + i) at = i;
  r.params.stop_token_ids = {out[at]};
  const Result stopped = run_all(*e, {r})[0];
  EXPECT_EQ(stopped.finish, "stop");
  EXPECT_EQ(stopped.tokens.at(0).size(), at + 1);

  EngineRequest bad = request("bad", {});
  EXPECT_FALSE(e->submit(bad));
  bad.prompt = {1, 2, 1 << 30};
  EXPECT_FALSE(e->submit(bad));
  bad.prompt = {1, 2, 3};
  bad.params.max_tokens = 5000;  // beyond the 4096-token context
  EXPECT_FALSE(e->submit(bad));
  bad.params.max_tokens = 4;
  bad.params.top_p = 2.0f;
  EXPECT_FALSE(e->submit(bad));
}

// Refusals are typed: the field at fault, or the engine's state; never a string to parse.
TEST_P(EngineTest, RefusalsNameTheirKindAndField) {
  auto e = engine();
  auto refused = [&](const EngineRequest& r) {
    auto s = e->submit(r);
    EXPECT_FALSE(s) << r.id;
    return s ? RequestError{} : s.request_error();
  };
  EngineRequest bad = request("bad", {});
  RequestError err = refused(bad);
  EXPECT_EQ(err.kind, RequestErrorKind::kInvalidParameter);
  EXPECT_EQ(err.param, "prompt");
  EXPECT_EQ(err.message, "the prompt is empty");
  bad.prompt = {1, 2, 3};
  bad.params.max_tokens = 5000;  // beyond the 4096-token context
  err = refused(bad);
  EXPECT_EQ(err.param, "prompt");
  EXPECT_EQ(err.message, "prompt (3 tokens) + max_tokens (5000) exceeds the context length 4096");
  bad.params.max_tokens = 4;
  bad.params.top_p = 2.0f;
  err = refused(bad);
  EXPECT_EQ(err.kind, RequestErrorKind::kInvalidParameter);
  EXPECT_EQ(err.param, "top_p");

  EngineRequest live = request("live", {1, 2, 3});
  live.params.max_tokens = 4000;
  live.params.ignore_eos = true;
  auto stream = e->submit(live);
  ASSERT_TRUE(stream) << stream.error();
  err = refused(live);  // its id is still live
  EXPECT_EQ(err.kind, RequestErrorKind::kInternal);
  EXPECT_EQ(err.param, "id");

  e->shut_down();  // the live request ends with "abort"; later ones are refused
  EXPECT_EQ(drain(**stream).finish, "abort");
  err = refused(request("late", {1, 2, 3}));
  EXPECT_EQ(err.kind, RequestErrorKind::kUnavailable);
  EXPECT_EQ(err.message, "the engine is shutting down");
  EXPECT_EQ(err.text(), "[request] the engine is shutting down");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Allows only the tokens in [lo, hi); complete after `length` tokens. Records the tokens_left
// the engine passes, if given somewhere to put them.
class RangeConstraint : public TokenConstraint {
 public:
  RangeConstraint(int32_t lo, int32_t hi, int length,
                  std::shared_ptr<std::vector<int32_t>> tokens_left = nullptr)
      : lo_(lo), hi_(hi), left_(length), tokens_left_(std::move(tokens_left)) {}
  void fill_mask(std::span<uint32_t> bits, int32_t tokens_left) override {
    if (tokens_left_) tokens_left_->push_back(tokens_left);
    std::fill(bits.begin(), bits.end(), 0u);
    for (int32_t t = lo_; t < hi_; ++t) bits[t >> 5] |= 1u << (t & 31);
  }
  bool accept(int32_t t) override {
    if (t < lo_ || t >= hi_ || left_ == 0) return false;
    --left_;
    return true;
  }
  bool must_finish() const override { return left_ == 0; }

 private:
  int32_t lo_, hi_;
  int left_;
  std::shared_ptr<std::vector<int32_t>> tokens_left_;
};

TEST_P(EngineTest, ConstraintIsToldHowManyTokensAreLeft) {
  auto e = engine();
  std::mt19937 rng(11);
  auto seen = std::make_shared<std::vector<int32_t>>();
  EngineRequest r = request("left", random_prompt(rng, 20));
  r.params.max_tokens = 6;
  r.params.ignore_eos = true;
  r.constraint = [seen] { return std::make_unique<RangeConstraint>(40, 48, 100, seen); };
  Result out = drain(**e->submit(r));
  EXPECT_EQ(*seen, (std::vector<int32_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(out.finish, "length");
}

TEST_P(EngineTest, ConstraintLimitsEverySequenceAndEndsItWhenComplete) {
  auto e = engine();
  std::mt19937 rng(7);
  EngineRequest r = request("c", random_prompt(rng, 20));
  r.params.temperature = 1.5f;
  r.params.n = 3;
  r.params.max_tokens = 50;
  r.params.logit_bias = {{5, 100.0f}};  // a disallowed token the bias would otherwise force
  r.constraint = [] { return std::make_unique<RangeConstraint>(40, 48, 7); };
  Result out = drain(**e->submit(r));
  ASSERT_EQ(out.tokens.size(), 3u);
  for (const auto& [index, toks] : out.tokens) {
    EXPECT_EQ(toks.size(), 7u) << "sequence " << index;
    for (int32_t t : toks) EXPECT_TRUE(t >= 40 && t < 48) << t;
  }
  EXPECT_EQ(out.finish, "stop");
}

TEST_P(EngineTest, ReasoningBudgetForcesTheCloseTokensThenTheConstraintApplies) {
  auto e = engine();
  const Tokenizer& tok = model_->tokenizer();
  // A close "tag": some multi-byte token the random model is unlikely to pick on its own.
  int32_t close = -1;
  for (int32_t t = static_cast<int32_t>(tok.vocab_size()) - 1; t > 3 && close < 0; --t)
    if (tok.token_bytes(t, false).size() >= 5) close = t;
  ASSERT_GE(close, 0);
  std::mt19937 rng(9);
  EngineRequest r = request("think", random_prompt(rng, 12));
  r.params.temperature = 1.0f;
  r.params.seed = 3;
  r.params.max_tokens = 12;
  r.params.ignore_eos = true;
  r.reasoning.enabled = true;
  r.reasoning.starts_inside = true;
  r.reasoning.close_text = tok.token_bytes(close, false);
  r.reasoning.close_tokens = {close};
  r.reasoning.budget = 4;
  r.constraint = [] { return std::make_unique<RangeConstraint>(40, 41, 100); };
  Result out = drain(**e->submit(r));
  const std::vector<int32_t>& toks = out.tokens.at(0);
  ASSERT_EQ(toks.size(), 12u);
  const auto at = std::find(toks.begin(), toks.end(), close);
  ASSERT_NE(at, toks.end()) << "the section was never closed";
  EXPECT_LE(at - toks.begin(), 4) << "the budget of 4 tokens was exceeded";
  for (auto it = at + 1; it != toks.end(); ++it)
    EXPECT_EQ(*it, 40) << "constraint after the section";
  EXPECT_TRUE(std::any_of(toks.begin(), at, [](int32_t t) { return t != 40; }))
      << "the constraint must not apply inside the section";
}

INSTANTIATE_TEST_SUITE_P(Archs, EngineTest,
                         ::testing::Values("llama", "qwen3moe", "gemma3", "gpt-oss", "qwen35",
                                           "qwen35moe"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');  // gtest names
                           return name;
                         });

}  // namespace
}  // namespace sluice
