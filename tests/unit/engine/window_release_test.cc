// The engine on the tiny Gemma 3 model (6 layers, 5 of them sliding with a window of 32; blocks
// of 16) with the window release on: the same tokens as a run whose every layer keeps every block
// (long prompts, chunks shorter and longer than the window, batches, prefix hits, preemption,
// n > 1), the KV it holds, and no leak under 1,000 random requests with aborts.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "../tiny_model.h"
#include "engine/engine.h"
#include "engine_test_support.h"

namespace sluice {
namespace {

using testing::drain;
using testing::request;
using testing::Result;
using testing::run_all;

class WindowReleaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = testing::load_tiny_model("window-release", "gemma3");
    ASSERT_TRUE(loaded) << loaded.error();
    model_ = loaded->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  static std::unique_ptr<Engine> engine(EngineConfig c) {
    if (c.kv_cache_bytes == 0) c.kv_cache_bytes = 64 << 20;
    c.num_threads = 2;
    c.deterministic = true;
    c.kv_cache_dtype = "f16";
    auto e = Engine::create(*model_, c);
    EXPECT_TRUE(e) << e.error();
    return std::move(*e);
  }
  static EngineConfig full_kv() {
    EngineConfig c;
    c.release_window_blocks = false;
    return c;
  }
  // Bytes of `blocks` KV blocks of 16 tokens with `pages` layers each (f16).
  static int64_t kv_bytes(int64_t blocks, int64_t pages) {
    const ModelConfig& c = model_->config();
    return blocks * KvStorage::bytes_per_block(pages, 16, c.num_kv_heads, c.head_dim, KvDtype::F16);
  }
  static std::vector<int32_t> random_prompt(std::mt19937& rng, int len) {
    return testing::random_tokens(rng, len, model_->config().vocab_size);
  }
  // Tokens and their logprobs, bit for bit.
  static void expect_same(const std::vector<Result>& got, const std::vector<Result>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].tokens, want[i].tokens) << i;
      EXPECT_EQ(got[i].logprobs, want[i].logprobs) << i;
    }
  }
  // Greedy requests with prompts of 20 to 230 tokens (up to 7 windows), 40 tokens each, with
  // the top 3 logprobs of each step (the tiny model is sure of its picks: its runners-up show a
  // changed attention input first).
  static std::vector<EngineRequest> long_requests() {
    std::mt19937 rng(5);
    std::vector<EngineRequest> reqs;
    for (int len : {20, 47, 48, 64, 100, 230}) {
      EngineRequest r = request("p" + std::to_string(len), random_prompt(rng, len));
      r.params.max_tokens = 40;
      r.params.ignore_eos = true;
      r.params.logprobs = 3;
      reqs.push_back(r);
    }
    return reqs;
  }
  // Blocks held by one sequence of n computed tokens (after its step): every block of the global
  // layer, and per local layer those from the first one position n reads.
  static int64_t blocks_held(int64_t n) {
    const int64_t all = (n + 15) / 16, first = std::max<int64_t>(0, n - 31) / 16;
    return all + 5 * (all - first);
  }

  static Model* model_;
};
Model* WindowReleaseTest::model_ = nullptr;

TEST_F(WindowReleaseTest, LayoutGivesEachLocalLayerItsOwnGroup) {
  const KvLayout layout = KvLayout::of(model_->config(), true);
  EXPECT_EQ(layout.pages_per_block, 1);
  EXPECT_EQ(layout.group_windows, (std::vector<int32_t>{0, 32, 32, 32, 32, 32}));
  EXPECT_EQ(layout.layer_group, (std::vector<int32_t>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(KvLayout::of(model_->config(), false).pages_per_block, 6);
}

TEST_F(WindowReleaseTest, SameTokensAsAFullKvRun) {
  const auto reqs = long_requests();
  EngineConfig one_at_a_time = full_kv();
  one_at_a_time.max_num_seqs = 1;
  std::vector<Result> want;
  auto full = engine(one_at_a_time);
  for (const auto& r : reqs) want.push_back(run_all(*full, {r})[0]);

  EngineConfig whole, small_chunks, big_chunks, serial;
  small_chunks.max_num_batched_tokens = 7;  // chunks inside a window
  big_chunks.max_num_batched_tokens = 100;  // chunks spanning three windows
  for (const EngineConfig& c : {whole, small_chunks, big_chunks}) {  // all at once
    SCOPED_TRACE(c.max_num_batched_tokens);
    expect_same(run_all(*engine(c), reqs), want);
  }
  serial.max_num_seqs = 1;
  auto e = engine(serial);
  for (size_t i = 0; i < reqs.size(); ++i) expect_same({run_all(*e, {reqs[i]})[0]}, {want[i]});
}

// The second request hits the first one's prompt: the global layer's blocks for all of it, the
// local layers' for its last window; the tokens match a run without the prefix cache.
TEST_F(WindowReleaseTest, PrefixHitNeedsOnlyTheWindowAndMatchesAColdRun) {
  std::mt19937 rng(8);
  const std::vector<int32_t> prefix = random_prompt(rng, 300);
  EngineRequest a = request("a", prefix), b = request("b", prefix);
  a.prompt.push_back(11);
  for (int t : {12, 13, 14}) b.prompt.push_back(t);
  for (EngineRequest* r : {&a, &b})
    r->params.max_tokens = 20, r->params.ignore_eos = true, r->params.logprobs = 3;
  EngineConfig chunked;
  chunked.max_num_batched_tokens = 64;
  auto e = engine(chunked);
  EXPECT_EQ(run_all(*e, {a})[0].stats.num_cached_tokens, 0);
  const Result hit = run_all(*e, {b})[0];
  EXPECT_EQ(hit.stats.num_cached_tokens, 288);  // 18 full blocks of 16
  EXPECT_EQ(hit.stats.num_computed_tokens, 303 - 288 + 19);

  EngineConfig cold = full_kv();
  cold.enable_prefix_caching = false;
  expect_same({hit}, run_all(*engine(cold), {b}));
}

// A pool that holds about three of the 16 sequences: preemption, recompute from a prefix hit
// whose local-layer blocks before the window are gone, and n = 3 forks sharing the window.
TEST_F(WindowReleaseTest, PreemptionAndForksMatchAFullKvRun) {
  std::mt19937 rng(2);
  std::vector<EngineRequest> reqs;
  for (int i = 0; i < 16; ++i) {
    EngineRequest r = request("r" + std::to_string(i), random_prompt(rng, 40 + 7 * i));
    r.params.max_tokens = 24;
    r.params.ignore_eos = true;
    r.params.temperature = i % 2 ? 0.8f : 0.0f;
    r.params.seed = 100 + i;
    r.params.n = i % 4 == 0 ? 3 : 1;
    r.params.logprobs = 3;
    reqs.push_back(r);
  }
  const auto want = run_all(*engine(full_kv()), reqs);
  EngineConfig small;
  small.max_num_batched_tokens = 64;
  small.kv_cache_bytes = kv_bytes(3 * blocks_held(170), 1);
  auto e = engine(small);
  const auto got = run_all(*e, reqs);
  int64_t preemptions = 0;
  expect_same(got, want);
  for (const Result& r : got) preemptions += r.stats.num_preemptions;
  EXPECT_GT(preemptions, 0);
  EXPECT_EQ(e->metrics().kv_blocks_used, 0);
}

// While a 2,000-token sequence decodes, it holds its global blocks plus about two windows' worth
// per local layer: a sixth of what it holds with every layer keeping every block.
TEST_F(WindowReleaseTest, LongSequenceHoldsItsWindowsOnly) {
  std::mt19937 rng(4);
  EngineRequest r = request("long", random_prompt(rng, 2000));
  r.params.max_tokens = 48;
  r.params.ignore_eos = true;
  auto e = engine({});
  auto stream = e->submit(r);
  ASSERT_TRUE(stream) << stream.error();
  std::vector<int64_t> used;  // sampled while it decodes (the engine may be steps ahead)
  for (;;) {
    RequestOutput o = *(*stream)->next();
    if (o.finished) break;
    used.push_back(e->metrics().kv_blocks_used);
  }
  ASSERT_EQ(used.size(), 47u);
  std::vector<int64_t> allowed = {0};  // after the step at n computed tokens, or finished
  for (int64_t n = 2000; n <= 2047; ++n) allowed.push_back(blocks_held(n));
  for (int64_t u : used)
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), u), allowed.end()) << u;
  EXPECT_EQ(blocks_held(2000), 125 + 5 * 2);
  EXPECT_EQ(blocks_held(2033), 128 + 5 * 3);  // the most: 143, against 6 * 128 = 768
  EXPECT_EQ(e->metrics().kv_blocks_used, 0);

  // The same budget holds more tokens (a whole sequence on its own: kv_capacity_tokens).
  EngineConfig small;
  small.max_num_batched_tokens = 64;
  small.kv_cache_bytes = kv_bytes(60, 6);
  EngineConfig small_full = small;
  small_full.release_window_blocks = false;
  EXPECT_EQ(engine(small_full)->kv_capacity_tokens(), 59 * 16);
  // 359 one-layer blocks; a 64-token step touches up to 7 blocks per local layer.
  EXPECT_EQ(engine(small)->kv_capacity_tokens(), (359 - 5 * 7) * 16);
}

// 1,000 requests (300 in sanitizer builds; prompts of 1 to 150 tokens, many sharing a prefix; n up
// to 3) with random aborts, in a pool small enough to preempt: every block comes back.
TEST_F(WindowReleaseTest, RandomRequestsWithAbortsLeakNoBlocks) {
  EngineConfig cfg;
  cfg.max_num_seqs = 24;
  cfg.max_num_batched_tokens = 64;
  cfg.kv_cache_bytes = kv_bytes(150, 1);
  auto e = engine(cfg);
  const int64_t total = e->metrics().kv_blocks_total;
  std::mt19937 rng(17);
  const std::vector<int32_t> shared = random_prompt(rng, 100);
  int aborted = 0;
  const auto streams = testing::submit_with_random_aborts(
      *e, rng,
      [&](std::mt19937& g) {
        std::vector<int32_t> p;
        if (g() % 2) p.assign(shared.begin(), shared.begin() + g() % 100);
        const auto tail = random_prompt(g, 1 + static_cast<int>(g() % 50));
        p.insert(p.end(), tail.begin(), tail.end());
        return p;
      },
      24, aborted);
  int64_t preemptions = 0;
  for (auto& s : streams) preemptions += drain(*s).stats.num_preemptions;
  const EngineMetrics m = e->metrics();
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.kv_blocks_total, total);
  EXPECT_EQ(m.num_running + m.num_waiting, 0);
  EXPECT_GT(aborted, testing::kLeakTestRequests / 10);
  EXPECT_GT(preemptions, 0);
  EXPECT_GT(m.prefix_hits, 0);
}

}  // namespace
}  // namespace sluice
