// SequenceSampler split for backends that sample where the logits are: row_sampling() + the
// reference Backend::sample_rows + take() draw what sample() draws, step after step (penalty
// history, seeds, grammar masks, logprobs), and n > 1 rows sharing one logit row stay apart.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "backend/backend.h"
#include "engine/sampler.h"

namespace sluice {
namespace {

std::vector<float> random_row(size_t vocab, std::mt19937_64& rng) {
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> l(vocab);
  for (float& x : l) x = d(rng);
  l[rng() % vocab] = NAN;
  l[rng() % vocab] = -INFINITY;
  l[rng() % vocab] = l[rng() % vocab];  // a tie
  return l;
}

struct RowCase {
  float temperature, top_p, min_p, rep, freq, pres;
  int32_t top_k;
  bool bias, logprobs, mask;
};

TEST(RowSampling, ReferenceSampleRowsDrawsWhatSampleDraws) {
  const int32_t vocab = 700;
  const std::vector<RowCase> cases = {
      {0.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0, false, false, false},
      {0.0f, 1.0f, 0.0f, 1.3f, 0.5f, 0.2f, 0, true, true, false},
      {1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0, false, false, false},
      {0.7f, 0.9f, 0.0f, 1.0f, 0.0f, 0.0f, 0, false, true, false},
      {1.3f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 40, false, false, false},
      {0.8f, 0.5f, 0.05f, 1.0f, 0.0f, 0.0f, 20, false, false, true},
      {1.0f, 0.95f, 0.1f, 1.2f, 0.4f, 0.3f, 0, true, true, false},
      {2.0f, 1.0f, 0.0f, 0.8f, -0.5f, 1.0f, 1, true, false, true},
      {1.0f, 0.3f, 0.0f, 1.0f, 1.5f, 0.0f, 600, false, true, true},
  };
  auto ref = make_reference_backend();
  std::mt19937_64 rng(11);
  for (size_t c = 0; c < cases.size(); ++c) {
    const RowCase& k = cases[c];
    SamplingParams p;
    p.temperature = k.temperature, p.top_p = k.top_p, p.min_p = k.min_p, p.top_k = k.top_k;
    p.repetition_penalty = k.rep, p.frequency_penalty = k.freq, p.presence_penalty = k.pres;
    if (k.bias) p.logit_bias = {{3, 5.0f}, {9, -100.0f}, {3, 1.5f}, {650, 2.0f}};
    if (k.logprobs) p.logprobs = 5;
    const std::vector<int32_t> prompt = {1, 2, 3, 4, 3, 650, 42};
    SequenceSampler host(p, 100 + c, prompt), split(p, 100 + c, prompt);
    for (int step = 0; step < 200; ++step) {
      std::vector<float> row = random_row(vocab, rng);
      std::vector<uint32_t> mask((vocab + 31) / 32, 0);
      for (auto& w : mask) w = static_cast<uint32_t>(rng());
      const uint32_t* allowed = k.mask ? mask.data() : nullptr;
      std::vector<float> copy = row;
      const SampleOutput want = host.sample(copy, allowed);
      const RowSampling spec = split.row_sampling(0, vocab, allowed);
      RowSampled got_row;
      ref->sample_rows(row.data(), vocab, {&spec, 1}, &got_row);
      const SampleOutput got = split.take(got_row);
      ASSERT_EQ(got.token, want.token) << "case " << c << " step " << step;
      if (!k.logprobs) continue;
      EXPECT_NEAR(got.logprob, want.logprob, 1e-4) << "case " << c << " step " << step;
      ASSERT_EQ(got.top.size(), want.top.size());
      for (size_t j = 0; j < want.top.size(); ++j) {
        EXPECT_EQ(got.top[j].token, want.top[j].token);
        EXPECT_NEAR(got.top[j].logprob, want.top[j].logprob, 1e-4);
      }
    }
  }
}

TEST(RowSampling, EditsAreSortedDistinctAndMergeBiasWithPenalties) {
  SamplingParams p;
  p.logit_bias = {{7, 1.0f}, {2, -3.0f}, {7, 0.5f}, {5000, 1.0f}};  // 5000: outside the vocab
  p.repetition_penalty = 1.5f;
  p.frequency_penalty = 0.25f;
  p.presence_penalty = 0.5f;
  SequenceSampler s(p, 1, std::vector<int32_t>{7, 4});
  s.force(4);
  s.force(4);
  const RowSampling r = s.row_sampling(3, 100, nullptr);
  EXPECT_EQ(r.row, 3);
  ASSERT_EQ(r.edits.size(), 3u);
  EXPECT_EQ(r.edits[0].token, 2);
  EXPECT_FLOAT_EQ(r.edits[0].add, -3.0f);
  EXPECT_FLOAT_EQ(r.edits[0].rep, 1.0f);
  EXPECT_EQ(r.edits[1].token, 4);  // prompt and twice in the output
  EXPECT_FLOAT_EQ(r.edits[1].rep, 1.5f);
  EXPECT_FLOAT_EQ(r.edits[1].sub, 0.25f * 2 + 0.5f);
  EXPECT_EQ(r.edits[2].token, 7);  // both biases, then the prompt's repetition penalty
  EXPECT_FLOAT_EQ(r.edits[2].add, 1.5f);
  EXPECT_FLOAT_EQ(r.edits[2].rep, 1.5f);
  EXPECT_FLOAT_EQ(r.edits[2].sub, 0.0f);
}

TEST(RowSampling, RowsSharingALogitRowDrawWithTheirOwnSeeds) {
  const int32_t vocab = 300;
  std::mt19937_64 rng(5);
  std::vector<float> row = random_row(vocab, rng);
  SamplingParams p;
  p.temperature = 5.0f;  // nearly flat: different seeds pick different tokens
  auto ref = make_reference_backend();
  std::vector<std::unique_ptr<SequenceSampler>> seqs;
  std::vector<RowSampling> specs;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    seqs.push_back(std::make_unique<SequenceSampler>(p, seed, std::vector<int32_t>{}));
    specs.push_back(seqs.back()->row_sampling(0, vocab, nullptr));
  }
  std::vector<RowSampled> out(specs.size());
  ref->sample_rows(row.data(), vocab, specs, out.data());
  std::set<int32_t> distinct;
  for (size_t i = 0; i < specs.size(); ++i) {
    std::vector<float> copy = row;
    SequenceSampler alone(p, i + 1, std::vector<int32_t>{});
    EXPECT_EQ(out[i].token, alone.sample(copy).token);
    distinct.insert(out[i].token);
  }
  EXPECT_GT(distinct.size(), 4u);
}

}  // namespace
}  // namespace sluice
