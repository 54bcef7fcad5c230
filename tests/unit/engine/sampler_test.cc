// SequenceSampler on hand-made logits: greedy and its tie rule, logit_bias, the three penalties
// (exact values, checked through flips of the greedy choice), top-k / top-p / min-p, seeded
// determinism, draw frequencies, raw-logit logprobs, and degenerate logits.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "engine/sampler_kernels.h"
#include "sampling_test_util.h"

namespace sluice {
namespace {

using testing::kInf;

SamplingParams greedy() {
  SamplingParams p;
  p.temperature = 0.0f;
  return p;
}

// Samples `steps` tokens, each from a fresh copy of `logits` (sample() overwrites them).
std::vector<int32_t> run(const SamplingParams& params, const std::vector<float>& logits, int steps,
                         std::vector<int32_t> prompt = {}, uint64_t seed = 1) {
  SequenceSampler s(params, seed, prompt);
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    std::vector<float> l = logits;
    out.push_back(s.sample(l).token);
  }
  return out;
}

int32_t once(const SamplingParams& params, const std::vector<float>& logits,
             std::vector<int32_t> prompt = {}, uint64_t seed = 1) {
  return run(params, logits, 1, std::move(prompt), seed)[0];
}

std::vector<float> log_of(const std::vector<float>& probs) {
  std::vector<float> l;
  for (float p : probs) l.push_back(std::log(p));
  return l;
}

std::vector<float> random_logits(size_t vocab, uint64_t seed, float scale = 3.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> l(vocab);
  for (float& x : l) x = d(rng);
  return l;
}

int32_t ref_argmax(const std::vector<float>& l) {
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

TEST(SamplerGreedyTest, ArgmaxAndLowestIdAmongTies) {
  EXPECT_EQ(once(greedy(), {1.0f, 3.0f, 2.0f}), 1);
  EXPECT_EQ(once(greedy(), {3.0f, 1.0f, 3.0f}), 0);
  EXPECT_EQ(once(greedy(), {1.0f, 5.0f, 5.0f, 5.0f}), 1);
  EXPECT_EQ(once(greedy(), {-kInf, -2.0f, -kInf}), 1);
  // Greedy never consumes the RNG, so the seed is irrelevant.
  EXPECT_EQ(run(greedy(), {0.1f, 0.2f, 0.2f}, 5, {}, 1),
            run(greedy(), {0.1f, 0.2f, 0.2f}, 5, {}, 2));
}

// The vector argmax against a scalar scan, at every length around the SIMD widths, with ties,
// NaN and -inf placed across the vector/tail boundary.
TEST(SamplerGreedyTest, VectorArgmaxMatchesScalarScan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::mt19937 rng(7);
  for (size_t n = 1; n <= 70; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> l(n);
      for (float& x : l) x = static_cast<float>(static_cast<int>(rng() % 5));  // many ties
      if (trial % 3 == 1) l[rng() % n] = nan;
      if (trial % 4 == 2)
        for (float& x : l) x = (rng() % 2) ? -kInf : nan;
      size_t want = 0;
      float best = -kInf;
      for (size_t i = 0; i < n; ++i)
        if (l[i] > best) best = l[i], want = i;
      EXPECT_EQ(sampler_kernels::argmax(l.data(), n), want) << "n=" << n << " trial=" << trial;
    }
  }
}

// plain_greedy: sample() would be the raw argmax and nothing else; force() records like sample.
TEST(SamplerGreedyTest, PlainGreedyOnlyWithoutBiasPenaltiesOrLogprobs) {
  EXPECT_TRUE(SequenceSampler(greedy(), 1, {}).plain_greedy());
  SamplingParams warm = greedy();
  warm.temperature = 0.7f;
  EXPECT_FALSE(SequenceSampler(warm, 1, {}).plain_greedy());
  SamplingParams biased = greedy();
  biased.logit_bias.push_back({3, 1.0f});
  EXPECT_FALSE(SequenceSampler(biased, 1, {}).plain_greedy());
  SamplingParams lp = greedy();
  lp.logprobs = 0;
  EXPECT_FALSE(SequenceSampler(lp, 1, {}).plain_greedy());
  SamplingParams rep = greedy();
  rep.repetition_penalty = 1.2f;
  const std::vector<int32_t> prompt = {4, 5};
  EXPECT_FALSE(SequenceSampler(rep, 1, prompt).plain_greedy());  // the prompt is penalized
  SamplingParams pres = greedy();
  pres.presence_penalty = 1.0f;
  SequenceSampler s(pres, 1, prompt);
  EXPECT_TRUE(s.plain_greedy());  // nothing output yet: nothing to penalize
  EXPECT_EQ(s.force(2).token, 2);
  EXPECT_FALSE(s.plain_greedy());
  std::vector<float> l = {0.0f, 0.5f, 0.9f};  // token 2 now pays the presence penalty
  EXPECT_EQ(s.sample(l).token, 1);
}

TEST(SamplerBiasTest, ForcesAndBans) {
  SamplingParams p = greedy();
  p.logit_bias = {{2, 100.0f}};
  EXPECT_EQ(once(p, {5.0f, 1.0f, 0.0f}), 2);
  p.logit_bias = {{0, -100.0f}};
  EXPECT_EQ(once(p, {5.0f, 1.0f, 0.0f}), 1);

  SamplingParams t;  // temperature 1: +100 forces, -100 bans, in every one of many draws
  t.logit_bias = {{2, 100.0f}};
  for (int32_t tok : run(t, {5.0f, 4.0f, 0.0f, 3.0f}, 300)) EXPECT_EQ(tok, 2);
  t.logit_bias = {{0, -100.0f}, {1, -100.0f}};
  for (int32_t tok : run(t, {5.0f, 5.0f, 0.0f, 0.0f}, 300)) EXPECT_GE(tok, 2);
}

TEST(SamplerPenaltyTest, RepetitionDividesPositiveOncePerDistinctToken) {
  SamplingParams p = greedy();
  p.repetition_penalty = 1.1f;
  // 2.0 / 1.1 = 1.818...: below 1.82, above 1.81.
  EXPECT_EQ(once(p, {2.0f, 1.82f}, {0}), 1);
  EXPECT_EQ(once(p, {2.0f, 1.81f}, {0}), 0);
  EXPECT_EQ(once(p, {2.0f, 1.81f}, {0, 0, 0, 0}), 0);  // once, not per occurrence
  EXPECT_EQ(once(p, {2.0f, 1.82f}, {}), 0);
  // Negative logits are multiplied: -1.0 * 1.1 = -1.1 < -1.05.
  EXPECT_EQ(once(p, {-1.0f, -1.05f}, {0}), 1);
  EXPECT_EQ(once(p, {-1.0f, -1.11f}, {0}), 0);
  // Output tokens count too: 0, then 0 is penalized (1.818 < 1.82), then both are.
  EXPECT_EQ(run(p, {2.0f, 1.82f, 0.0f}, 3), (std::vector<int32_t>{0, 1, 0}));
  // A penalty below 1 rewards repetition.
  p.repetition_penalty = 0.5f;
  EXPECT_EQ(once(p, {2.0f, 3.9f}, {0}), 0);
  EXPECT_EQ(once(p, {2.0f, 4.1f}, {0}), 1);
}

TEST(SamplerPenaltyTest, FrequencyCountsOutputOnly) {
  SamplingParams p = greedy();
  p.frequency_penalty = 0.3f;
  // Token 0: 2.0 - 0.3 * count; token 1: 1.5 - 0.3 * count.
  EXPECT_EQ(run(p, {2.0f, 1.5f}, 5), (std::vector<int32_t>{0, 0, 1, 0, 1}));
  EXPECT_EQ(run(p, {2.0f, 1.5f}, 5, {0, 0, 0, 0}), (std::vector<int32_t>{0, 0, 1, 0, 1}));
  p.frequency_penalty = -0.3f;  // negative: encourages repetition
  EXPECT_EQ(run(p, {1.5f, 2.0f}, 4), (std::vector<int32_t>{1, 1, 1, 1}));
}

TEST(SamplerPenaltyTest, PresenceIsFlat) {
  SamplingParams p = greedy();
  p.presence_penalty = 0.6f;
  // Token 0: 2.0 -> 1.4 once seen; token 1: 1.5 -> 0.9 once seen.
  EXPECT_EQ(run(p, {2.0f, 1.5f}, 5), (std::vector<int32_t>{0, 1, 0, 0, 0}));
  EXPECT_EQ(run(p, {2.0f, 1.5f}, 2, {0, 0}), (std::vector<int32_t>{0, 1}));
}

TEST(SamplerPenaltyTest, OrderBiasThenRepetitionThenFrequency) {
  SamplingParams p = greedy();
  p.logit_bias = {{0, 1.0f}};
  p.repetition_penalty = 1.1f;
  // bias then penalty: (1 + 1) / 1.1 = 1.818 < 1.85; the other order would give 1.909.
  EXPECT_EQ(once(p, {1.0f, 1.85f}, {0}), 1);

  SamplingParams q = greedy();
  q.repetition_penalty = 2.0f;
  q.frequency_penalty = 0.5f;
  // Step 2: 2 / 2 - 0.5 = 0.5 < 0.6; frequency first would give (2 - 0.5) / 2 = 0.75.
  EXPECT_EQ(run(q, {2.0f, 0.6f}, 2), (std::vector<int32_t>{0, 1}));
}

TEST(SamplerFilterTest, TopKOneAndTinyTopPEqualGreedy) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    std::vector<float> l = random_logits(1000, seed);
    if (seed % 3 == 0) l[700] = l[900] = *std::max_element(l.begin(), l.end()) + 0.5f;  // tie
    const int32_t want = ref_argmax(l);
    SamplingParams k;
    k.temperature = 1.5f;
    k.top_k = 1;
    SamplingParams pp;
    pp.temperature = 1.5f;
    pp.top_p = 1e-6f;
    EXPECT_EQ(once(k, l, {}, seed), want);
    EXPECT_EQ(once(pp, l, {}, seed), want);
    EXPECT_EQ(once(greedy(), l), want);
  }
}

TEST(SamplerFilterTest, TopKKeepsTheKMostLikely) {
  SamplingParams p;
  p.top_k = 2;
  std::set<int32_t> seen;
  for (int32_t t : run(p, log_of({0.1f, 0.4f, 0.2f, 0.3f}), 2000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{1, 3}));
  p.top_k = 100;  // larger than the vocab: off
  seen.clear();
  for (int32_t t : run(p, log_of({0.1f, 0.4f, 0.2f, 0.3f}), 2000)) seen.insert(t);
  EXPECT_EQ(seen.size(), 4u);
}

TEST(SamplerFilterTest, TopPOnTheTopKRenormalizedDistribution) {
  const std::vector<float> l = log_of({0.4f, 0.3f, 0.2f, 0.1f});
  SamplingParams p;
  p.top_p = 0.42f;  // alone: 0.4 < 0.42, so {0, 1}
  std::set<int32_t> seen;
  for (int32_t t : run(p, l, 2000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  p.top_k = 2;  // after top_k = 2, token 0 has 0.571 >= 0.42 by itself
  seen.clear();
  for (int32_t t : run(p, l, 2000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0}));
  p.top_k = 0;
  p.top_p = 0.75f;  // 0.4 + 0.3 = 0.7 < 0.75: the third token is needed
  seen.clear();
  for (int32_t t : run(p, l, 3000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1, 2}));
}

TEST(SamplerFilterTest, TopPOverALargeFlatVocab) {
  // Nearly flat logits: the nucleus spans thousands of tokens (several sort chunks).
  const size_t vocab = 8000;
  std::vector<float> l = random_logits(vocab, 42, 0.5f);
  SamplingParams p;
  p.temperature = 0.8f;
  p.top_p = 0.9f;
  // Reference nucleus from a full sort.
  std::vector<double> prob(vocab);
  double total = 0;
  const float m = *std::max_element(l.begin(), l.end());
  for (size_t i = 0; i < vocab; ++i) total += prob[i] = std::exp((l[i] - m) / 0.8f);
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  std::set<int32_t> nucleus;
  double cum = 0;
  for (int32_t t : order) {
    nucleus.insert(t);
    cum += prob[t];
    if (cum >= 0.9 * total) break;
  }
  ASSERT_GT(nucleus.size(), 1000u);
  std::set<int32_t> seen;
  for (int32_t t : run(p, l, 500)) {
    EXPECT_TRUE(nucleus.count(t)) << t;
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 300u);
}

// The filtered, renormalized distribution computed the obvious way (full sort).
std::vector<double> reference_distribution(const std::vector<float>& l, const SamplingParams& p) {
  const size_t v = l.size();
  std::vector<int32_t> order(v);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  const size_t k = p.top_k > 0 ? std::min<size_t>(p.top_k, v) : v;
  order.resize(k);
  std::vector<double> prob(v, 0.0);
  double total = 0;
  for (int32_t t : order) total += prob[t] = std::exp((l[t] - l[order[0]]) / p.temperature);
  size_t n = 0;
  double cum = 0;
  while (n < k) {
    cum += prob[order[n++]];
    if (cum >= p.top_p * total) break;
  }
  std::vector<double> out(v, 0.0);
  double kept = 0;
  for (size_t j = 0; j < n; ++j) {
    if (prob[order[j]] >= p.min_p) kept += out[order[j]] = prob[order[j]];
  }
  for (double& x : out) x /= kept;
  return out;
}

TEST(SamplerFilterTest, MatchesReferenceDistribution) {
  const std::vector<float> l = random_logits(200, 77, 2.0f);
  struct Config {
    float temperature, top_p, min_p;
    int32_t top_k;
  };
  const Config configs[] = {{1.0f, 1.0f, 0.0f, 0},   {0.7f, 0.8f, 0.05f, 10},
                            {1.3f, 0.6f, 0.0f, 0},   {1.0f, 1.0f, 0.0f, 5},
                            {1.0f, 1.0f, 0.2f, 0},   {2.0f, 0.9f, 0.0f, 50},
                            {0.5f, 0.95f, 0.01f, 0}, {1.0f, 1.0f, 0.0f, 100}};
  const int draws = 10000;
  for (const Config& c : configs) {
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.top_k = c.top_k;
    const std::vector<double> want = reference_distribution(l, p);
    std::vector<int> counts(l.size(), 0);
    for (int32_t t : run(p, l, draws, {}, 31)) ++counts[t];
    for (size_t t = 0; t < l.size(); ++t) {
      if (want[t] == 0.0) {
        EXPECT_EQ(counts[t], 0) << t;
      }
      EXPECT_NEAR(counts[t] / double(draws), want[t], 0.02)
          << "token " << t << " T=" << c.temperature << " top_p=" << c.top_p << " min_p=" << c.min_p
          << " top_k=" << c.top_k;
    }
  }
}

TEST(SamplerFilterTest, MinPDropsUnlikelyTokens) {
  const std::vector<float> l = log_of({0.5f, 0.3f, 0.15f, 0.05f});
  SamplingParams p;
  p.min_p = 0.35f;  // threshold 0.175: keeps {0, 1}
  std::set<int32_t> seen;
  for (int32_t t : run(p, l, 2000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  p.top_k = 3;  // the sorted path filters the same way
  seen.clear();
  for (int32_t t : run(p, l, 2000)) seen.insert(t);
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  p.top_k = 0;
  p.min_p = 0.5f;  // after temperature 0.5 the ratio 0.3 / 0.5 = 0.6 becomes 0.36 < 0.5
  p.temperature = 0.5f;
  for (int32_t t : run(p, l, 500)) EXPECT_EQ(t, 0);
  p.min_p = 1.0f;  // only the most likely survives
  p.temperature = 1.0f;
  for (int32_t t : run(p, l, 500)) EXPECT_EQ(t, 0);
}

TEST(SamplerRngTest, SeededDeterminism) {
  const std::vector<float> l = random_logits(500, 7, 1.0f);
  SamplingParams p;
  p.top_p = 0.95f;
  const auto a = run(p, l, 200, {}, 123);
  EXPECT_EQ(a, run(p, l, 200, {}, 123));
  EXPECT_NE(a, run(p, l, 200, {}, 124));
  // params.seed wins over the engine's seed.
  p.seed = 99;
  EXPECT_EQ(run(p, l, 200, {}, 1), run(p, l, 200, {}, 2));
  EXPECT_NE(run(p, l, 200, {}, 1), a);
}

TEST(SamplerRngTest, OneDrawPerStepEvenWhenDegenerate) {
  // A fully masked step still consumes exactly one draw, so later steps are unaffected.
  const std::vector<float> l = random_logits(500, 9, 1.0f);
  SamplingParams p;
  p.top_k = 100;
  SequenceSampler a(p, 5, std::vector<int32_t>{});
  SequenceSampler b(p, 5, std::vector<int32_t>{});
  std::vector<float> masked(l.size(), -kInf);
  std::vector<float> normal = l;
  a.sample(masked);
  b.sample(normal);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> la = l;
    std::vector<float> lb = l;
    EXPECT_EQ(a.sample(la).token, b.sample(lb).token) << i;
  }
}

TEST(SamplerRngTest, BatchNeighboursDoNotMatter) {
  // Interleaving with another sequence (other params, other vocab use) changes nothing.
  const std::vector<float> l = random_logits(300, 3, 1.0f);
  SamplingParams p;
  p.temperature = 0.9f;
  p.top_k = 50;
  p.presence_penalty = 0.5f;
  const auto alone = run(p, l, 100, {1, 2, 3}, 5);
  SequenceSampler a(p, 5, std::vector<int32_t>{1, 2, 3});
  SamplingParams q;
  q.min_p = 0.1f;
  SequenceSampler b(q, 5, std::vector<int32_t>{});
  std::vector<int32_t> mixed;
  for (int i = 0; i < 100; ++i) {
    std::vector<float> lb = random_logits(1000, 1000 + i);
    b.sample(lb);
    std::vector<float> la = l;
    mixed.push_back(a.sample(la).token);
  }
  EXPECT_EQ(alone, mixed);
}

TEST(SamplerRngTest, FrequenciesMatchTheDistribution) {
  SamplingParams p;
  std::vector<int> counts(3, 0);
  const int draws = 20000;
  for (int32_t t : run(p, log_of({0.5f, 0.3f, 0.2f}), draws, {}, 2024)) ++counts[t];
  EXPECT_NEAR(counts[0] / double(draws), 0.5, 0.02);
  EXPECT_NEAR(counts[1] / double(draws), 0.3, 0.02);
  EXPECT_NEAR(counts[2] / double(draws), 0.2, 0.02);
  // Temperature 2 flattens: p ~ sqrt([0.5, 0.3, 0.2]).
  p.temperature = 2.0f;
  counts.assign(3, 0);
  for (int32_t t : run(p, log_of({0.5f, 0.3f, 0.2f}), draws, {}, 2025)) ++counts[t];
  const double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.2);
  EXPECT_NEAR(counts[0] / double(draws), std::sqrt(0.5) / z, 0.02);
  EXPECT_NEAR(counts[2] / double(draws), std::sqrt(0.2) / z, 0.02);
}

TEST(SamplerLogprobsTest, FromRawLogitsWithSortedTopList) {
  std::vector<float> raw = random_logits(64, 11, 2.0f);
  raw[10] = raw[20] = 9.0f;  // a tie at the top: lower id first
  double z = 0;
  for (float x : raw) z += std::exp(double(x));
  const double log_z = std::log(z);

  SamplingParams p;
  p.logprobs = 5;
  p.temperature = 0.7f;
  p.logit_bias = {{3, 50.0f}};  // processing changes the draw, not the reported logprobs
  p.repetition_penalty = 1.3f;
  p.frequency_penalty = 1.0f;
  SequenceSampler s(p, 8, std::vector<int32_t>{10, 20, 3});
  for (int step = 0; step < 20; ++step) {
    std::vector<float> l = raw;
    SampleOutput o = s.sample(l);
    EXPECT_NEAR(o.logprob, raw[o.token] - log_z, 1e-5) << step;
    ASSERT_EQ(o.top.size(), 5u);
    std::vector<int32_t> order(raw.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return raw[a] > raw[b]; });
    EXPECT_EQ(o.top[0].token, 10);
    EXPECT_EQ(o.top[1].token, 20);
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(o.top[j].token, order[j]);
      EXPECT_NEAR(o.top[j].logprob, raw[order[j]] - log_z, 1e-5);
    }
    EXPECT_EQ(o.token, 3);  // +50 bias wins even after penalties
  }
}

TEST(SamplerLogprobsTest, ZeroTopAndGreedy) {
  const std::vector<float> raw = {1.0f, 2.0f, 3.0f};
  const double log_z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  SamplingParams p = greedy();
  p.logprobs = 0;
  p.logit_bias = {{0, 10.0f}};
  SequenceSampler s(p, 1, std::vector<int32_t>{});
  std::vector<float> l = raw;
  SampleOutput o = s.sample(l);
  EXPECT_EQ(o.token, 0);
  EXPECT_NEAR(o.logprob, 1.0 - log_z, 1e-6);
  EXPECT_TRUE(o.top.empty());
  // Not requested: no list.
  SequenceSampler plain(greedy(), 1, std::vector<int32_t>{});
  l = raw;
  EXPECT_TRUE(plain.sample(l).top.empty());
}

TEST(SamplerRobustnessTest, DegenerateLogits) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float temp : {0.0f, 1.0f, 1e-42f}) {
    for (int32_t top_k : {0, 2}) {
      SamplingParams p;
      p.temperature = temp;
      p.top_k = top_k;
      p.logprobs = 2;
      EXPECT_EQ(once(p, {-kInf, -kInf, -kInf}), 0);
      EXPECT_EQ(once(p, {nan, 1.0f, nan}), 1);
      const int32_t t = once(p, {nan, nan, nan});
      EXPECT_TRUE(t >= 0 && t < 3);
      EXPECT_EQ(once(p, {0.0f, kInf, 1.0f}), 1);
      EXPECT_EQ(once(p, {-kInf, -kInf, 0.0f, -kInf}), 2);
    }
  }
}

TEST(SamplerScaleTest, LargeVocabFilters) {
  const size_t vocab = 152000;
  const std::vector<float> l = random_logits(vocab, 5, 4.0f);
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 40, order.end(),
                    [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  const std::set<int32_t> top40(order.begin(), order.begin() + 40);
  SamplingParams p;
  p.top_k = 40;
  p.top_p = 0.9f;
  p.min_p = 0.01f;
  p.repetition_penalty = 1.1f;
  p.logprobs = 20;
  for (int32_t t : run(p, l, 50, {1, 2, 3})) EXPECT_TRUE(top40.count(t)) << t;
}

}  // namespace
}  // namespace sluice
