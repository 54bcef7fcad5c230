// Backend::sample_rows on the GPU vs the reference (ref::sample_rows) on random rows and random
// specs (temperature, top-k/p, min-p, edits, grammar masks, logprobs, rows shared by several
// specs, degenerate rows), and a row's result independent of the batch it is sampled in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/ref_ops.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

struct Specs {
  std::vector<RowSampling> rows;
  std::vector<std::vector<RowSamplingEdit>> edits;  // storage behind rows[i].edits
  std::vector<std::vector<uint32_t>> masks;
};

// rows: [num_rows, vocab] logits, with a few degenerate rows; specs draw from every option.
Specs random_specs(int num_specs, int32_t num_rows, int64_t vocab, std::mt19937_64& rng) {
  Specs s;
  s.edits.resize(num_specs);
  s.masks.resize(num_specs);
  auto pick = [&](auto first, auto... rest) {
    const decltype(first) options[] = {first, rest...};
    return options[rng() % (1 + sizeof...(rest))];
  };
  for (int i = 0; i < num_specs; ++i) {
    RowSampling r;
    r.row = static_cast<int32_t>(rng() % num_rows);
    r.temperature = pick(0.0f, 0.3f, 0.8f, 1.0f, 1.7f);
    r.top_k = pick(0, 0, 1, 3, 40, 1000);
    r.top_p = pick(1.0f, 1.0f, 0.95f, 0.7f, 0.2f);
    r.min_p = pick(0.0f, 0.0f, 0.02f, 0.3f);
    r.u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    r.num_logprobs = pick(-1, -1, 0, 5, 20);
    const int num_edits = pick(0, 1, 7, 300);
    std::vector<int32_t> tokens;
    for (int e = 0; e < num_edits; ++e) tokens.push_back(static_cast<int32_t>(rng() % vocab));
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    for (int32_t t : tokens)
      s.edits[i].push_back({t, pick(0.0f, 4.0f, -100.0f), pick(1.0f, 1.3f, 0.7f),
                            pick(0.0f, 0.5f, -1.0f)});
    if (rng() % 4 == 0) {
      s.masks[i].resize((vocab + 31) / 32);
      for (auto& w : s.masks[i]) w = static_cast<uint32_t>(rng()) | static_cast<uint32_t>(rng());
    }
    s.rows.push_back(r);
  }
  for (int i = 0; i < num_specs; ++i) {
    s.rows[i].edits = s.edits[i];
    s.rows[i].allowed = s.masks[i].empty() ? nullptr : s.masks[i].data();
  }
  return s;
}

std::vector<float> random_rows(int32_t num_rows, int64_t vocab, uint32_t seed) {
  std::vector<float> x = testing::randn(num_rows * vocab, seed, 3.0f);
  auto row = [&](int32_t r) { return x.data() + r * vocab; };
  row(0)[vocab / 2] = NAN, row(0)[1] = row(0)[7];                        // NaN, a tie
  std::fill(row(1), row(1) + vocab, -INFINITY);                          // nothing to draw
  std::fill(row(2), row(2) + vocab, 0.5f);                               // all equal
  for (int64_t j = 0; j < vocab; j += 3) row(3)[j] = NAN;                // a third NaN
  for (int64_t j = 0; j < vocab; ++j) row(4)[j] = -0.001f * static_cast<float>(j % 97);  // flat
  return x;
}

void expect_same(const RowSampled& got, const RowSampled& want, const RowSampling& r, int i) {
  const std::string where = "spec " + std::to_string(i) + " (row " + std::to_string(r.row) +
                            ", T " + std::to_string(r.temperature) + ", top_k " +
                            std::to_string(r.top_k) + ", top_p " + std::to_string(r.top_p) +
                            ", min_p " + std::to_string(r.min_p) + ", u " + std::to_string(r.u) + ")";
  EXPECT_EQ(got.token, want.token) << where;
  if (r.num_logprobs < 0) return;
  if (std::isfinite(want.logprob)) {
    EXPECT_NEAR(got.logprob, want.logprob, 1e-3) << where;
  }
  ASSERT_EQ(got.num_top, want.num_top) << where;
  for (int j = 0; j < want.num_top; ++j) {
    EXPECT_EQ(got.top_token[j], want.top_token[j]) << where << " top " << j;
    if (std::isfinite(want.top_logprob[j])) {
      EXPECT_NEAR(got.top_logprob[j], want.top_logprob[j], 1e-3) << where << " top " << j;
    }
  }
}

TEST_F(CudaOps, SampleRowsEqualsTheReference) {
  for (int64_t vocab : {int64_t{50}, int64_t{1000}, int64_t{151936}}) {
    const int32_t num_rows = 8;
    std::mt19937_64 rng(vocab);
    const std::vector<float> x = random_rows(num_rows, vocab, static_cast<uint32_t>(vocab));
    const Specs s = random_specs(vocab > 1000 ? 48 : 200, num_rows, vocab, rng);
    std::vector<RowSampled> want(s.rows.size()), got(s.rows.size());
    ref::sample_rows(x.data(), vocab, s.rows, want.data());
    gpu_->sample_rows(up(x), vocab, s.rows, got.data());
    for (size_t i = 0; i < s.rows.size(); ++i)
      expect_same(got[i], want[i], s.rows[i], static_cast<int>(i));
  }
}

TEST_F(CudaOps, SampleRowsOfARowDoNotDependOnTheBatch) {
  const int64_t vocab = 32000;
  const int32_t num_rows = 6;
  std::mt19937_64 rng(3);
  const std::vector<float> x = random_rows(num_rows, vocab, 9);
  const Specs s = random_specs(64, num_rows, vocab, rng);
  const float* d = up(x);
  std::vector<RowSampled> batched(s.rows.size());
  gpu_->sample_rows(d, vocab, s.rows, batched.data());
  for (size_t i = 0; i < s.rows.size(); i += 7) {
    RowSampled alone;
    gpu_->sample_rows(d, vocab, {&s.rows[i], 1}, &alone);
    EXPECT_EQ(alone.token, batched[i].token) << i;
    EXPECT_EQ(alone.logprob, batched[i].logprob) << i;
    EXPECT_EQ(alone.num_top, batched[i].num_top) << i;
  }
}

}  // namespace
}  // namespace sluice
