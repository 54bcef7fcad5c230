// Fast CPU element-wise / row ops vs the scalar reference backend on random data.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include <numeric>

#include "backend/backend.h"
#include "backend/reference/ref_ops.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;
using testing::rel_l2;

class CpuOps : public ::testing::TestWithParam<int> {
 protected:
  std::unique_ptr<Backend> cpu_ = make_cpu_backend(GetParam());
  std::unique_ptr<Backend> ref_ = make_reference_backend();
};

// Host memory: small buffers and large ones (mapped, huge pages asked for) come zeroed and
// writable to their last byte, and release gives them back.
TEST(HostMemory, AllocIsZeroedAtEverySize) {
  auto be = make_cpu_backend(1);
  for (size_t bytes : {size_t{1}, size_t{4096}, size_t{4} << 20, (size_t{9} << 20) + 3}) {
    for (int round = 0; round < 2; ++round) {  // the second round may reuse what the first freed
      auto* p = static_cast<uint8_t*>(be->alloc(bytes));
      ASSERT_NE(p, nullptr);
      for (size_t i = 0; i < bytes; i += 4093) ASSERT_EQ(p[i], 0) << bytes << " at " << i;
      ASSERT_EQ(p[bytes - 1], 0) << bytes;
      std::memset(p, 0xAB, bytes);
      be->release(p);
    }
  }
}

TEST_P(CpuOps, Embedding) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
    const Weight table = random_weight(t, 50, 96, 3);
    const std::vector<int32_t> ids = {0, 49, 7, 7, 23};
    std::vector<float> got(ids.size() * 96), want(got.size());
    cpu_->embedding(table, ids.data(), 5, got.data());
    ref_->embedding(table, ids.data(), 5, want.data());
    EXPECT_EQ(got, want) << dtype_name(t);
  }
}

TEST_P(CpuOps, RmsNorm) {
  for (int64_t dim : {1, 7, 64, 576, 2049}) {
    for (int64_t n : {1, 3, 40}) {
      const auto x = randn(n * dim, 1 + dim, 2.0f);
      const auto w = randn(dim, 2 + dim);
      std::vector<float> got(x.size()), want(x.size());
      cpu_->rms_norm(x.data(), n, dim, w.data(), 1e-5f, got.data());
      ref_->rms_norm(x.data(), n, dim, w.data(), 1e-5f, want.data());
      EXPECT_LT(rel_l2(got, want), 1e-5) << "dim=" << dim << " n=" << n;
      auto inplace = x;  // y may alias x
      cpu_->rms_norm(inplace.data(), n, dim, w.data(), 1e-5f, inplace.data());
      EXPECT_LT(rel_l2(inplace, want), 1e-5);
    }
  }
}

// The plain paths of the folded-norm ops (Backend's defaults, which the CPU backend keeps and a
// device backend falls back to): the ops they stand for, on F32 weights.
TEST_P(CpuOps, FoldedNormOpsEqualTheOpsTheyStandFor) {
  EXPECT_FALSE(cpu_->folds_norms(1, random_weight(DType::F32, 8, 64, 1)));
  const int64_t n = 3, cols = 96, rows = 40;
  const Weight w = random_weight(DType::F32, rows, cols, 2);
  const auto x = randn(n * cols, 3, 2.0f), g = randn(cols, 4), up = randn(n * cols, 5);
  const auto res = randn(n * rows, 6);
  std::vector<float> h(n * cols), want(n * rows), got(n * rows), scratch(n * rows);
  ref_->rms_norm(x.data(), n, cols, g.data(), 1e-5f, h.data());
  ref_->matmul(h.data(), n, w, want.data());
  std::vector<float> hs(n * cols);
  const Backend::Product p{&w, got.data()};
  cpu_->matmul_many_normed(x.data(), n, g.data(), 1e-5f, hs.data(), &p, 1);
  EXPECT_LT(rel_l2(got, want), 1e-5);

  got = res;
  cpu_->matmul_add(x.data(), n, w, got.data(), scratch.data());
  ref_->matmul(x.data(), n, w, want.data());
  for (size_t i = 0; i < want.size(); ++i) want[i] += res[i];
  EXPECT_LT(rel_l2(got, want), 1e-5);

  got = res;
  auto gate = x;
  cpu_->matmul_add_gated(gate.data(), up.data(), n, w, got.data(), scratch.data());
  std::vector<float> act(n * cols);
  ref_->silu_mul(x.data(), up.data(), n * cols, act.data());
  ref_->matmul(act.data(), n, w, want.data());
  for (size_t i = 0; i < want.size(); ++i) want[i] += res[i];
  EXPECT_LT(rel_l2(got, want), 1e-5);
}

TEST_P(CpuOps, Rope) {
  struct Case {
    int64_t head_dim, rotary_dim;
    bool interleaved, given_freq;
  };
  const Case cases[] = {{64, 64, false, true}, {64, 64, true, true},  {128, 64, false, false},
                        {96, 32, true, false}, {6, 6, false, true},   {6, 6, true, true},
                        {80, 80, true, true},  {80, 80, false, false}};
  for (const Case& c : cases) {
    const int64_t n = 37, heads = 5;
    std::vector<int32_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>((i * 977) % 9000);
    std::vector<float> freq(c.rotary_dim / 2);
    RopeParams p;
    p.rotary_dim = c.rotary_dim;
    p.theta = 500000.0f;
    p.interleaved = c.interleaved;
    if (c.given_freq) {
      ref::default_inv_freq(p, freq.data());
      for (auto& f : freq) f *= 0.7f;
      p.inv_freq = freq.data();
    }
    const auto x = randn(n * heads * c.head_dim, 9);
    auto got = x, want = x;
    cpu_->rope(got.data(), n, heads, c.head_dim, pos.data(), p);
    ref_->rope(want.data(), n, heads, c.head_dim, pos.data(), p);
    EXPECT_LT(rel_l2(got, want), 1e-5)
        << "head_dim=" << c.head_dim << " rot=" << c.rotary_dim << " interleaved=" << c.interleaved;
    // Rotation preserves the norm and the non-rotated tail.
    EXPECT_NEAR(rel_l2(got, x), rel_l2(want, x), 1e-5);
  }
}

TEST_P(CpuOps, SiluMulAddBias) {
  for (int64_t count : {1, 7, 64, 1000, 100003}) {
    auto g = randn(count, 1, 4.0f);
    if (count > 10) g[3] = -200.0f, g[4] = 200.0f, g[5] = 0.0f;
    const auto u = randn(count, 2);
    std::vector<float> got(count), want(count);
    cpu_->silu_mul(g.data(), u.data(), count, got.data());
    ref_->silu_mul(g.data(), u.data(), count, want.data());
    EXPECT_LT(rel_l2(got, want), 1e-5) << count;
    auto inplace = g;  // out may alias gate
    cpu_->silu_mul(inplace.data(), u.data(), count, inplace.data());
    EXPECT_LT(rel_l2(inplace, want), 1e-5);

    auto a = g, b = g;
    cpu_->add(a.data(), u.data(), count);
    ref_->add(b.data(), u.data(), count);
    EXPECT_LT(rel_l2(a, b), 1e-7);
  }
  for (int64_t dim : {3, 64, 896}) {
    const auto bias = randn(dim, 4);
    auto a = randn(50 * dim, 5), b = a;
    cpu_->add_bias(a.data(), 50, dim, bias.data());
    ref_->add_bias(b.data(), 50, dim, bias.data());
    EXPECT_LT(rel_l2(a, b), 1e-7);
  }
}

// The host default of Backend::argmax_rows: the first of equal maxima, NaN never wins, a row of
// only -inf and NaN gives 0 (the sampler's greedy rule).
TEST_P(CpuOps, ArgmaxRows) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> rows = {{1, 3, 3, 2},       {nan, 5, nan, 5},
                                                {-inf, -inf, -inf, -inf}, {nan, nan, nan, nan},
                                                {-inf, nan, -3, -3},      {inf, 1, inf, 2}};
  const std::vector<int32_t> want = {1, 1, 0, 0, 2, 0};
  std::vector<float> x;
  for (const auto& r : rows) x.insert(x.end(), r.begin(), r.end());
  std::vector<int32_t> got(rows.size(), -1);
  cpu_->argmax_rows(x.data(), static_cast<int64_t>(rows.size()), 4, got.data());
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Threads, CpuOps, ::testing::Values(1, 2, 0));

}  // namespace
}  // namespace sluice
