// The recurrent ops on the reference, CPU and CUDA backends: a sequence split over calls gives the
// bits of one call (the engine's chunked prefill relies on it), a batch gives each sequence's bits
// alone, sequences of 0 rows leave their state alone, the head mapping, and small cases worked
// out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "recurrent_batch.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

// What one call leaves behind: its output rows and the state buffer (every slot).
struct Result {
  std::vector<float> out, state;
};

// Random inputs of a delta-net layer for n rows.
struct DeltaInputs {
  DeltaNetShape shape;
  int64_t n;
  std::vector<float> qkv, a, b, a_neg, dt_bias;
  DeltaInputs(DeltaNetShape s, int64_t rows, uint32_t seed) : shape(s), n(rows) {
    const int64_t hv = shape.num_v_heads;
    qkv = randn(n * shape.qkv_dim(), seed);
    a = randn(n * hv, seed + 1);
    b = randn(n * hv, seed + 2, 2.0f);
    a_neg = randn(hv, seed + 3);
    for (float& v : a_neg) v = -std::exp(v);
    dt_bias = randn(hv, seed + 4);
  }
  // Rows [r0, r1) alone.
  DeltaInputs rows(int64_t r0, int64_t r1) const {
    DeltaInputs d = *this;
    d.n = r1 - r0;
    auto cut = [&](const std::vector<float>& v, int64_t w) {
      return std::vector<float>(v.begin() + r0 * w, v.begin() + r1 * w);
    };
    d.qkv = cut(qkv, shape.qkv_dim());
    d.a = cut(a, shape.num_v_heads);
    d.b = cut(b, shape.num_v_heads);
    return d;
  }
};

DeltaNetShape make_shape(int64_t hk, int64_t hv, int64_t dk, int64_t dv, bool tiled) {
  DeltaNetShape s;
  s.num_k_heads = hk;
  s.num_v_heads = hv;
  s.head_k_dim = dk;
  s.head_v_dim = dv;
  s.heads_tiled = tiled;
  return s;
}

Result run_delta(Backend& be, const DeltaInputs& in, const RecurrentSeqs& seqs,
                 const std::vector<float>& state) {
  BackendBuffers b(be);
  const int64_t outs = in.n * in.shape.num_v_heads * in.shape.head_v_dim;
  float* st = b.up(state);
  float* out = b.poisoned(outs);
  be.gated_delta_rule(b.up(in.qkv), b.up(in.a), b.up(in.b), b.up(in.a_neg), b.up(in.dt_bias),
                      in.shape, st, seqs.on(b), out);
  return {b.down(out, outs), b.down(st, state.size())};
}

Result run_conv(Backend& be, const std::vector<float>& x, int64_t channels,
                const std::vector<float>& w, int64_t kernel, const RecurrentSeqs& seqs,
                const std::vector<float>& state) {
  BackendBuffers b(be);
  const int64_t outs = seqs.num_tokens() * channels;
  float* st = b.up(state);
  float* out = b.poisoned(outs);
  be.causal_conv1d_silu(b.up(x), channels, b.up(w), kernel, st, seqs.on(b), out);
  return {b.down(out, outs), b.down(st, state.size())};
}

std::vector<float> cut(const std::vector<float>& v, int64_t r0, int64_t r1, int64_t width) {
  return std::vector<float>(v.begin() + r0 * width, v.begin() + r1 * width);
}
std::vector<float> join(std::vector<float> a, const std::vector<float>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct RecurrentVariant {
  const char* name;
  int threads;  // -1: the reference backend, -2: CUDA (skipped without a GPU)
};
void PrintTo(const RecurrentVariant& v, std::ostream* os) {
  *os << v.name;
}

class RecurrentOps : public ::testing::TestWithParam<RecurrentVariant> {
 protected:
  void SetUp() override {
    const int threads = GetParam().threads;
    if (threads == -2) {
      if (!cuda_available()) GTEST_SKIP() << "no CUDA GPU here";
      auto r = make_backend("cuda", 0);
      ASSERT_TRUE(r.ok()) << r.error();
      be_ = std::move(r.value());
    } else {
      be_ = threads == -1 ? make_reference_backend() : make_cpu_backend(threads);
    }
  }
  std::unique_ptr<Backend> be_;
};

// Rows [0, L) of one sequence in one call, and split at m into two calls (the second carrying
// the state): the same output rows and final state, bit for bit. Both a fresh and a carried start.
TEST_P(RecurrentOps, DeltaRuleChunkedEqualsUnchunked) {
  const int64_t len = 70;
  for (const DeltaNetShape& shape :
       {make_shape(2, 4, 128, 128, true), make_shape(1, 2, 24, 40, false)}) {
    const DeltaInputs in(shape, len, 100);
    const auto initial = randn(2 * shape.state_floats(), 105, 0.3f);
    for (int32_t fresh : {1, 0}) {
      const Result whole =
          run_delta(*be_, in, RecurrentSeqs({int32_t(len)}, {1}, {fresh}), initial);
      for (int64_t m : {1, 33, 69}) {
        const Result first =
            run_delta(*be_, in.rows(0, m), RecurrentSeqs({int32_t(m)}, {1}, {fresh}), initial);
        const Result second = run_delta(*be_, in.rows(m, len),
                                        RecurrentSeqs({int32_t(len - m)}, {1}, {0}), first.state);
        EXPECT_EQ(join(first.out, second.out), whole.out) << "split at " << m;
        EXPECT_EQ(second.state, whole.state) << "split at " << m;
      }
    }
  }
}

TEST_P(RecurrentOps, ConvChunkedEqualsUnchunked) {
  const int64_t len = 70, channels = 300, kernel = 4, hist = kernel - 1;
  const auto x = randn(len * channels, 110), w = randn(channels * kernel, 111, 0.5f);
  const auto initial = randn(2 * hist * channels, 112);
  for (int32_t fresh : {1, 0}) {
    const Result whole = run_conv(*be_, x, channels, w, kernel,
                                  RecurrentSeqs({int32_t(len)}, {1}, {fresh}), initial);
    for (int64_t m : {1, 2, 33, 69}) {
      const Result first = run_conv(*be_, cut(x, 0, m, channels), channels, w, kernel,
                                    RecurrentSeqs({int32_t(m)}, {1}, {fresh}), initial);
      const Result second = run_conv(*be_, cut(x, m, len, channels), channels, w, kernel,
                                     RecurrentSeqs({int32_t(len - m)}, {1}, {0}), first.state);
      EXPECT_EQ(join(first.out, second.out), whole.out) << "split at " << m;
      EXPECT_EQ(second.state, whole.state) << "split at " << m;
    }
  }
}

// Three sequences in one batch (slots 2, 0, 1; the second fresh) and each alone: the same bits.
TEST_P(RecurrentOps, DeltaRuleBatchEqualsEachAlone) {
  const DeltaNetShape shape = make_shape(2, 4, 128, 128, false);
  const std::vector<int32_t> lens{17, 1, 5}, slots{2, 0, 1}, fresh{0, 1, 0};
  const DeltaInputs in(shape, 23, 120);
  const auto initial = randn(3 * shape.state_floats(), 125, 0.3f);
  const Result all = run_delta(*be_, in, RecurrentSeqs(lens, slots, fresh), initial);
  const int64_t row = shape.num_v_heads * shape.head_v_dim, sf = shape.state_floats();
  for (int64_t s = 0, r0 = 0; s < 3; r0 += lens[s++]) {
    const Result one = run_delta(*be_, in.rows(r0, r0 + lens[s]),
                                 RecurrentSeqs({lens[s]}, {slots[s]}, {fresh[s]}), initial);
    EXPECT_EQ(one.out, cut(all.out, r0, r0 + lens[s], row)) << "sequence " << s;
    EXPECT_EQ(cut(one.state, slots[s], slots[s] + 1, sf),
              cut(all.state, slots[s], slots[s] + 1, sf))
        << "sequence " << s;
  }
}

TEST_P(RecurrentOps, ConvBatchEqualsEachAlone) {
  const int64_t channels = 300, kernel = 4, hist = kernel - 1;
  const std::vector<int32_t> lens{17, 1, 5}, slots{2, 0, 1}, fresh{0, 1, 0};
  const auto x = randn(23 * channels, 130), w = randn(channels * kernel, 131, 0.5f);
  const auto initial = randn(3 * hist * channels, 132);
  const Result all =
      run_conv(*be_, x, channels, w, kernel, RecurrentSeqs(lens, slots, fresh), initial);
  for (int64_t s = 0, r0 = 0; s < 3; r0 += lens[s++]) {
    const Result one = run_conv(*be_, cut(x, r0, r0 + lens[s], channels), channels, w, kernel,
                                RecurrentSeqs({lens[s]}, {slots[s]}, {fresh[s]}), initial);
    EXPECT_EQ(one.out, cut(all.out, r0, r0 + lens[s], channels)) << "sequence " << s;
    const int64_t sw = hist * channels;
    EXPECT_EQ(cut(one.state, slots[s], slots[s] + 1, sw),
              cut(all.state, slots[s], slots[s] + 1, sw))
        << "sequence " << s;
  }
}

// A sequence of 0 rows (even a fresh one) leaves its slot as it was.
TEST_P(RecurrentOps, EmptySequenceKeepsItsState) {
  const DeltaNetShape shape = make_shape(1, 2, 16, 16, false);
  const DeltaInputs in(shape, 3, 140);
  const auto initial = randn(2 * shape.state_floats(), 141);
  const Result r = run_delta(*be_, in, RecurrentSeqs({0, 3}, {0, 1}, {1, 1}), initial);
  EXPECT_EQ(cut(r.state, 0, 1, shape.state_floats()), cut(initial, 0, 1, shape.state_floats()));
  const auto cinit = randn(2 * 3 * 20, 142);
  const Result c = run_conv(*be_, randn(3 * 20, 143), 20, randn(20 * 4, 144), 4,
                            RecurrentSeqs({0, 3}, {0, 1}, {1, 1}), cinit);
  EXPECT_EQ(cut(c.state, 0, 1, 60), cut(cinit, 0, 1, 60));
}

// Value head h reads key head h % Hk (tiled) or h / (Hv / Hk): its output and state are those of
// a one-head layer given that key head's q, k and its own v, a, b.
TEST_P(RecurrentOps, DeltaRuleHeadMapping) {
  for (bool tiled : {false, true}) {
    const DeltaNetShape shape = make_shape(2, 4, 16, 8, tiled),
                        one = make_shape(1, 1, 16, 8, false);
    const int64_t n = 5, dk = 16, dv = 8, hk = 2, hv = 4;
    const DeltaInputs in(shape, n, 150);
    const auto initial = randn(shape.state_floats(), 151, 0.3f);
    const Result all = run_delta(*be_, in, RecurrentSeqs({int32_t(n)}, {0}, {0}), initial);
    for (int64_t h = 0; h < hv; ++h) {
      const int64_t kh = tiled ? h % hk : h / (hv / hk);
      DeltaInputs single(one, n, 152);
      for (int64_t t = 0; t < n; ++t) {
        const float* row = in.qkv.data() + t * shape.qkv_dim();
        float* dst = single.qkv.data() + t * one.qkv_dim();
        std::copy(row + kh * dk, row + (kh + 1) * dk, dst);
        std::copy(row + (hk + kh) * dk, row + (hk + kh + 1) * dk, dst + dk);
        std::copy(row + 2 * hk * dk + h * dv, row + 2 * hk * dk + (h + 1) * dv, dst + 2 * dk);
        single.a[t] = in.a[t * hv + h];
        single.b[t] = in.b[t * hv + h];
      }
      single.a_neg = {in.a_neg[h]};
      single.dt_bias = {in.dt_bias[h]};
      const Result r = run_delta(*be_, single, RecurrentSeqs({int32_t(n)}, {0}, {0}),
                                 cut(initial, h, h + 1, dk * dv));
      for (int64_t t = 0; t < n; ++t)
        EXPECT_EQ(cut(r.out, t, t + 1, dv), cut(all.out, t * hv + h, t * hv + h + 1, dv))
            << "tiled " << tiled << " head " << h << " row " << t;
      EXPECT_EQ(r.state, cut(all.state, h, h + 1, dk * dv)) << "tiled " << tiled << " head " << h;
    }
  }
}

// dk = dv = 2, one head, two tokens from a fresh state (eps = 0):
//   t0: q (3,4) -> (.6,.8)/sqrt2, k (0,2) -> (0,1), v (2,-4), a + dt_bias = 0 (softplus ln 2,
//       decay 1/2), b = 0 (beta 1/2): delta = (1,-2), S = [[0,0],[1,-2]], out = (.8,-1.6)/sqrt2
//   t1: q (1,0) -> (1,0)/sqrt2, k (3,4) -> (.6,.8), v (1,1), a + dt_bias = ln 3 (softplus ln 4,
//       decay 1/4), b = ln 3 (beta 3/4): S = [[0,0],[.25,-.5]], S^T k = (.2,-.4),
//       delta = .75 ((1,1) - (.2,-.4)) = (.6,1.05), S = [[.36,.63],[.73,.34]], out =
//       (.36,.63)/sqrt2
TEST_P(RecurrentOps, DeltaRuleByHand) {
  DeltaInputs in(make_shape(1, 1, 2, 2, false), 2, 160);
  in.shape.eps = 0.0f;
  in.qkv = {3, 4, 0, 2, 2, -4, /**/ 1, 0, 3, 4, 1, 1};
  const float ln3 = std::log(3.0f);
  in.dt_bias = {0.5f};
  in.a = {-0.5f, ln3 - 0.5f};
  in.b = {0.0f, ln3};
  in.a_neg = {-1.0f};
  const Result r = run_delta(*be_, in, RecurrentSeqs({2}, {0}, {1}), std::vector<float>(4, NAN));
  const float s2 = std::sqrt(2.0f);
  const std::vector<float> out{0.8f / s2, -1.6f / s2, 0.36f / s2, 0.63f / s2};
  const std::vector<float> state{0.36f, 0.63f, 0.73f, 0.34f};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(r.out[i], out[i], 1e-6) << "out " << i;
    EXPECT_NEAR(r.state[i], state[i], 1e-6) << "state " << i;
  }
}

// kernel 3, 2 channels, a carried state (rows (1,10), (2,20)) and 1 new row (3,30) with weights
// (1,2,3) and (-1,0,1): out = silu(1+4+9, -10+30) = silu(14, 20); the state keeps the last two
// inputs, (2,20), (3,30) (fewer new rows than the kernel's history).
TEST_P(RecurrentOps, ConvByHand) {
  const std::vector<float> x{3, 30}, w{1, 2, 3, -1, 0, 1}, initial{1, 10, 2, 20};
  const Result r = run_conv(*be_, x, 2, w, 3, RecurrentSeqs({1}, {0}, {0}), initial);
  auto silu = [](double v) { return static_cast<float>(v / (1.0 + std::exp(-v))); };
  EXPECT_NEAR(r.out[0], silu(14.0), 1e-5);
  EXPECT_NEAR(r.out[1], silu(20.0), 1e-5);
  EXPECT_EQ(r.state, (std::vector<float>{2, 20, 3, 30}));
}

TEST_P(RecurrentOps, SigmoidMulByHand) {
  BackendBuffers b(*be_);
  float* x = b.up(std::vector<float>{2, 4, 6, 8});
  be_->sigmoid_mul(x, b.up(std::vector<float>{0, std::log(3.0f)}), 2, 2, 1);  // 1/2, 3/4
  const auto got = b.down(x, 4);
  const std::vector<float> want{1, 2, 4.5f, 6};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
}

// Backends that record ops (CUDA graphs): the conv, delta rule and gating recorded once replay
// on the inputs present at replay time, batch layout (row ranges, slots, fresh) included.
TEST_P(RecurrentOps, ReplayReadsTheCurrentBatch) {
  if (!be_->can_record()) GTEST_SKIP() << be_->name() << " does not record ops";
  const DeltaNetShape shape = make_shape(2, 4, 128, 128, true);
  const int64_t n = 6, channels = shape.qkv_dim(), kernel = 4, out_dim = 4 * 128;
  const int64_t conv_state = 3 * (kernel - 1) * channels, delta_state = 3 * shape.state_floats();
  BackendBuffers b(*be_);
  const DeltaInputs in(shape, n, 170);
  float* x = b.up(in.qkv);  // [n, channels], convolved in place
  float* a = b.up(in.a);
  float* bb = b.up(in.b);
  float* conv_st = b.poisoned(conv_state);
  float* delta_st = b.poisoned(delta_state);
  float* out = b.poisoned(n * out_dim);
  float* gate = b.up(randn(n * out_dim, 171));
  const float* w = b.up(randn(channels * kernel, 172, 0.5f));
  const float* a_neg = b.up(in.a_neg);
  const float* dt_bias = b.up(in.dt_bias);
  int32_t* query_start = b.up(std::vector<int32_t>(4, 0));
  int32_t* slots = b.up(std::vector<int32_t>(3, 0));
  int32_t* fresh = b.up(std::vector<int32_t>(3, 0));
  std::vector<int32_t> host_qs{0, 2, 3, 6};
  const RecurrentBatch batch{3, n, query_start, host_qs.data(), slots, fresh};
  auto ops = [&] {
    be_->causal_conv1d_silu(x, channels, w, kernel, conv_st, batch, x);
    be_->gated_delta_rule(x, a, bb, a_neg, dt_bias, shape, delta_st, batch, out);
    be_->sigmoid_mul(out, gate, n, out_dim, out_dim);
  };
  // One batch layout and its inputs into the buffers; then the ops run or replay.
  auto run = [&](uint32_t seed, const RecurrentSeqs& seqs, Recording* rec) {
    auto put = [&](void* dst, const auto& v) {
      be_->to_device(dst, v.data(), v.size() * sizeof(v[0]));
    };
    put(x, randn(n * channels, seed));
    put(conv_st, randn(conv_state, seed + 1));
    put(delta_st, randn(delta_state, seed + 2, 0.3f));
    put(query_start, seqs.query_start);
    put(slots, seqs.slots);
    put(fresh, seqs.fresh);
    host_qs = seqs.query_start;
    if (rec)
      rec->replay();
    else
      ops();
    return std::vector<std::vector<float>>{b.down(out, n * out_dim), b.down(conv_st, conv_state),
                                           b.down(delta_st, delta_state)};
  };
  run(180, RecurrentSeqs({2, 1, 3}, {0, 1, 2}, {1, 0, 0}), nullptr);  // scratch grows now
  be_->begin_recording();
  ops();
  const std::unique_ptr<Recording> rec = be_->end_recording();
  ASSERT_NE(rec, nullptr);
  for (const RecurrentSeqs& seqs : {RecurrentSeqs({2, 1, 3}, {0, 1, 2}, {1, 0, 0}),
                                    RecurrentSeqs({1, 4, 1}, {2, 0, 1}, {0, 1, 1})}) {
    EXPECT_EQ(run(190, seqs, nullptr), run(190, seqs, rec.get()));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RecurrentOps,
                         ::testing::Values(RecurrentVariant{"reference", -1},
                                           RecurrentVariant{"cpu1", 1}, RecurrentVariant{"cpu", 0},
                                           RecurrentVariant{"cuda", -2}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sluice::testing
