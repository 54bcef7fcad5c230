// The reference's semantics on hand-computed values (the op table compares every backend with
// it): softmax attention, the greedy pick's rules, matmul as ref::matmul. The CPU backend runs
// the same checks where its code is the host default.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/ref_ops.h"
#include "op_table.h"
#include "test_util.h"

namespace sluice {
namespace {

TEST(ReferenceOps, BackendMatmulIsTheFloatReference) {
  auto r = make_reference_backend();
  const Weight w = testing::random_weight(DType::Q4G32, 8, 64, 1);
  const auto x = testing::randn(2 * 64, 2);
  std::vector<float> y(16), want(16);
  r->matmul(x.data(), 2, w, y.data());
  ref::matmul(x.data(), 2, w, want.data());
  EXPECT_EQ(y, want);
}

TEST(ReferenceOps, AttentionMatchesHandComputedSoftmax) {
  // One sequence, one head, head_dim 2, two positions, block_size 1, blocks {3, 1}.
  std::vector<float> k(4 * 2, 0.0f), v(4 * 2, 0.0f);
  k[3 * 2] = 1.0f;      // pos 0 -> block 3
  k[1 * 2 + 1] = 2.0f;  // pos 1 -> block 1
  v[3 * 2] = 10.0f;
  v[1 * 2 + 1] = 20.0f;
  KvLayerView cache{k.data(), v.data(), 4, 1, 1, 2};
  const int32_t qs[] = {0, 1}, pos[] = {1}, table[] = {3, 1}, slot[] = {1};
  AttentionBatch b{1, 1, 2, qs, pos, table, 2, slot};  // 1 seq, 1 token, context 2
  const float q[] = {1.0f, 1.0f};
  // scores: [1, 2] -> softmax weights e/(e+e^2), e^2/(e+e^2)
  const float w0 = 1.0f / (1.0f + std::exp(1.0f)), w1 = 1.0f - w0;
  for (auto& be : {make_reference_backend(), make_cpu_backend(1)}) {
    float out[2];
    be->paged_attention(q, 1, cache, b, 1.0f, out);
    EXPECT_NEAR(out[0], 10.0f * w0, 1e-5) << be->name();
    EXPECT_NEAR(out[1], 20.0f * w1, 1e-5) << be->name();
  }
}

// Backend::argmax_rows' host default: the first of equal maxima, NaN never wins, a row of only
// -inf and NaN gives 0 (the sampler's greedy rule); the op table's "6x4_hand_made" rows.
// M-RoPE: head_dim 10 (5 NeoX pairs, i with i + 5), sections {1, 2, 1, 0} over 4 pairs, so
// pair 0 turns by t, 1-2 by h, 3 by w and pair 4 wraps around to t; theta^(-2i/10) each.
TEST(ReferenceOps, MropeTurnsEachPairByItsSectionsPosition) {
  const int64_t n = 2, hd = 10;
  const std::vector<int32_t> pos = {3, 7, 5, 11, 9, 2, 100, 200};  // t, h, w, e planes of 2 tokens
  RopeParams p{hd, 100.0f, false, nullptr};
  p.sections[0] = 1, p.sections[1] = 2, p.sections[2] = 1;
  std::vector<float> x(n * hd);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i) - 0.7f;
  std::vector<float> got = x;
  ref::rope(got.data(), n, 1, hd, pos.data(), p);
  const int plane[5] = {0, 1, 1, 2, 0};
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < 5; ++i) {
      const double angle = pos[plane[i] * n + t] * std::pow(100.0, -2.0 * i / hd);
      const double x0 = x[t * hd + i], x1 = x[t * hd + i + 5];
      EXPECT_NEAR(got[t * hd + i], x0 * std::cos(angle) - x1 * std::sin(angle), 1e-5) << t << i;
      EXPECT_NEAR(got[t * hd + i + 5], x0 * std::sin(angle) + x1 * std::cos(angle), 1e-5) << t << i;
    }
}

// Interleaved M-RoPE (Qwen3-VL): head_dim 16 (8 NeoX pairs), sections {2, 2, 1, 2} (sum 7):
// pair s = i % 7 takes h at s = 1, 4; w at s = 2; t at s = 0, 3; e at s = 5, 6 (w's 3 * 1 ends
// before 5; t's 3 * 2 before 6); pair 7 wraps to s = 0 (t). Sectioned M-RoPE differs.
TEST(ReferenceOps, InterleavedMropeTurnsPairsByThreeWayInterleave) {
  const int64_t n = 2, hd = 16, half = 8;
  const std::vector<int32_t> pos = {3, 7, 5, 11, 9, 2, 100, 200};  // t, h, w, e planes of 2 tokens
  RopeParams p{hd, 100.0f, false, nullptr};
  p.sections[0] = 2, p.sections[1] = 2, p.sections[2] = 1, p.sections[3] = 2;
  p.interleaved_sections = true;
  std::vector<float> x(n * hd);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i) - 0.7f;
  std::vector<float> got = x, sectioned = x;
  ref::rope(got.data(), n, 1, hd, pos.data(), p);
  const int plane[half] = {0, 1, 2, 0, 1, 3, 3, 0};
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double angle = pos[plane[i] * n + t] * std::pow(100.0, -2.0 * i / hd);
      const double x0 = x[t * hd + i], x1 = x[t * hd + i + half];
      EXPECT_NEAR(got[t * hd + i], x0 * std::cos(angle) - x1 * std::sin(angle), 1e-5) << t << i;
      EXPECT_NEAR(got[t * hd + i + half], x0 * std::sin(angle) + x1 * std::cos(angle), 1e-5)
          << t << i;
    }
  p.interleaved_sections = false;
  ref::rope(sectioned.data(), n, 1, hd, pos.data(), p);
  EXPECT_NE(got, sectioned);
}

TEST(ReferenceOps, ArgmaxRowsOnHandMadeRows) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> rows = {
      {1, 3, 3, 2},         {nan, 5, nan, 5},    {-inf, -inf, -inf, -inf},
      {nan, nan, nan, nan}, {-inf, nan, -3, -3}, {inf, 1, inf, 2}};
  const std::vector<int32_t> want = {1, 1, 0, 0, 2, 0};
  std::vector<float> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  for (auto& be : {make_reference_backend(), make_cpu_backend(1)}) {
    std::vector<int32_t> got(rows.size(), -1);
    be->argmax_rows(x.data(), static_cast<int64_t>(rows.size()), 4, got.data());
    EXPECT_EQ(got, want) << be->name();
  }
}

// The op table's wide argmax rows (testing::argmax_rows_input): a tie goes to the lower index,
// no winner gives 0, the first of two +inf wins.
TEST(ReferenceOps, ArgmaxRowsOnWideRows) {
  for (int64_t cols : {1000, 151669}) {
    const auto x = testing::argmax_rows_input(7, cols, static_cast<uint32_t>(70 + cols));
    for (auto& be : {make_reference_backend(), make_cpu_backend(1)}) {
      std::vector<int32_t> got(7, -1);
      be->argmax_rows(x.data(), 7, cols, got.data());
      EXPECT_EQ(got[0], cols / 2) << be->name();
      EXPECT_EQ(got[1], cols - 1) << be->name();
      EXPECT_EQ(got[2], 0) << be->name();
      EXPECT_EQ(got[3], cols / 3) << be->name();
      EXPECT_EQ(got[4], 0) << be->name();
    }
  }
}

}  // namespace
}  // namespace sluice
