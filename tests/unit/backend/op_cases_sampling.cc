// Op table cases of sampling where the logits are: argmax_rows (greedy picks) and sample_rows
// (temperature, top-k/p, min-p, edits, grammar masks, logprobs, rows shared by several specs,
// degenerate rows), a row's draw independent of the batch it is drawn in.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {

std::vector<float> argmax_rows_input(int64_t rows, int64_t cols, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = randn(rows * cols, seed);
  float* r = x.data();
  r[0 * cols + cols - 1] = 50.0f, r[0 * cols + cols / 2] = 50.0f;  // a tie: the lower wins
  r[1 * cols + 0] = nan, r[1 * cols + cols - 1] = 60.0f;
  for (int64_t j = 0; j < cols; ++j) r[2 * cols + j] = j % 3 ? -inf : nan;  // no winner: 0
  r[3 * cols + cols - 1] = inf, r[3 * cols + cols / 3] = inf;
  for (int64_t j = 0; j < cols; ++j) r[4 * cols + j] = 1.0f;  // all equal: 0
  return x;
}

namespace {

std::vector<float> as_floats(const std::vector<int32_t>& v) {
  return {v.begin(), v.end()};
}

OpCase argmax_case(const std::string& name, int64_t rows, int64_t cols,
                   std::function<std::vector<float>()> input) {
  OpCase c{"argmax_rows", name, nullptr, {{"index", all(exact()), nullptr}}, nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    int32_t* out = b.up(std::vector<int32_t>(rows, -1));
    b.backend().argmax_rows(b.up(input()), rows, cols, out);
    return {as_floats(b.down(out, rows))};
  };
  return c;
}

struct Specs {
  std::vector<RowSampling> rows;
  std::vector<std::vector<RowSamplingEdit>> edits;  // storage behind rows[i].edits
  std::vector<std::vector<uint32_t>> masks;
};

// Specs drawing from every option, each on a random row of [num_rows, vocab].
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
      s.edits[i].push_back(
          {t, pick(0.0f, 4.0f, -100.0f), pick(1.0f, 1.3f, 0.7f), pick(0.0f, 0.5f, -1.0f)});
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

// Logits [num_rows >= 5, vocab] with degenerate rows.
std::vector<float> random_rows(int32_t num_rows, int64_t vocab, uint32_t seed) {
  std::vector<float> x = randn(num_rows * vocab, seed, 3.0f);
  auto row = [&](int32_t r) { return x.data() + r * vocab; };
  row(0)[vocab / 2] = NAN, row(0)[1] = row(0)[7];          // NaN, a tie
  std::fill(row(1), row(1) + vocab, -INFINITY);            // nothing to draw
  std::fill(row(2), row(2) + vocab, 0.5f);                 // all equal
  for (int64_t j = 0; j < vocab; j += 3) row(3)[j] = NAN;  // a third NaN
  for (int64_t j = 0; j < vocab; ++j) row(4)[j] = -0.001f * static_cast<float>(j % 97);  // flat
  return x;
}

// Tokens, and for specs asking logprobs: the drawn token's logprob, the number of top entries,
// their tokens and logprobs (within 1e-3 where the reference's is finite). Batch independence:
// every 7th spec drawn alone gives the batch's token, logprob and number of top entries.
OpCase sample_case(int64_t vocab, int32_t num_rows, int num_specs, uint64_t spec_seed,
                   uint32_t row_seed) {
  OpCase c{"sample_rows",
           case_name("vocab", vocab, "_specs", num_specs),
           nullptr,
           {{"token", all(exact()), nullptr},
            {"logprob", all(abs_err(1e-3)), nullptr},
            {"num_top", all(exact()), nullptr},
            {"top_token", all(exact()), nullptr},
            {"top_logprob", all(abs_err(1e-3)), nullptr}},
           [](const Backend& be) { return be.samples_rows(); }};
  c.run = [=](BackendBuffers& b) -> Outputs {
    std::mt19937_64 rng(spec_seed);
    const Specs s = random_specs(num_specs, num_rows, vocab, rng);
    const float* x = b.up(random_rows(num_rows, vocab, row_seed));
    std::vector<RowSampled> got(s.rows.size());
    b.backend().sample_rows(x, vocab, s.rows, got.data());
    Outputs out(5);
    for (size_t i = 0; i < got.size(); ++i) {
      out[0].push_back(static_cast<float>(got[i].token));
      if (s.rows[i].num_logprobs < 0) continue;
      out[1].push_back(got[i].logprob);
      out[2].push_back(static_cast<float>(got[i].num_top));
      for (int j = 0; j < got[i].num_top; ++j) {
        out[3].push_back(static_cast<float>(got[i].top_token[j]));
        out[4].push_back(got[i].top_logprob[j]);
      }
    }
    for (size_t i = 0; i < s.rows.size(); i += 7) {
      RowSampled alone;
      b.backend().sample_rows(x, vocab, {&s.rows[i], 1}, &alone);
      EXPECT_EQ(alone.token, got[i].token) << "spec " << i << " alone";
      EXPECT_EQ(std::bit_cast<uint32_t>(alone.logprob), std::bit_cast<uint32_t>(got[i].logprob))
          << "spec " << i << " alone: " << alone.logprob << " vs " << got[i].logprob;
      EXPECT_EQ(alone.num_top, got[i].num_top) << "spec " << i << " alone";
    }
    return out;
  };
  return c;
}

}  // namespace

std::vector<OpCase> sampling_cases() {
  std::vector<OpCase> cases;
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Hand-made rows (reference_ops_test.cc says what each must give).
  cases.push_back(argmax_case("6x4_hand_made", 6, 4, [=] {
    return std::vector<float>{1,   3,   3,   2,   nan,  5,   nan, 5,  -inf, -inf, -inf, -inf,
                              nan, nan, nan, nan, -inf, nan, -3,  -3, inf,  1,    inf,  2};
  }));
  for (int64_t cols : {4, 1000, 151669})
    cases.push_back(argmax_case(case_name("7x", cols), 7, cols, [=] {
      return argmax_rows_input(7, cols, static_cast<uint32_t>(70 + cols));
    }));
  for (int64_t vocab : {50, 1000, 151936})
    cases.push_back(sample_case(vocab, 8, vocab > 1000 ? 48 : 200, vocab, vocab));
  cases.push_back(sample_case(32000, 6, 64, 3, 9));
  return cases;
}

}  // namespace sluice::testing
