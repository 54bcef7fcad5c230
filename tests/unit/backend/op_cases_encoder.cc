// Op table cases of the encoder ops: layer_norm, gelu_erf, bidirectional_attention, pool_rows,
// l2_normalize.
#include <gtest/gtest.h>

#include <string>

#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

// y, and y again in place.
OpCase layer_norm_case(int64_t n, int64_t dim) {
  OpCase c{"layer_norm",
           case_name("n", n, "_", dim),
           nullptr,
           {{"y", all(rel(1e-5)), nullptr}, {"y in place", all(rel(1e-5)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    auto x = randn(n * dim, 11 + dim, 2.0f);
    for (float& v : x) v += 3.0f;  // a mean far from 0
    const float* w = b.up(randn(dim, 12));
    const float* bias = b.up(randn(dim, 13));
    float* y = b.poisoned(n * dim);
    b.backend().layer_norm(b.up(x), n, dim, w, bias, 1e-12f, y);
    float* inplace = b.up(x);
    b.backend().layer_norm(inplace, n, dim, w, bias, 1e-12f, inplace);
    return {b.down(y, n * dim), b.down(inplace, n * dim)};
  };
  return c;
}

OpCase gelu_erf_case(int64_t count) {
  OpCase c{"gelu_erf",
           case_name("n", count),
           nullptr,
           {{"out", all(rel(1e-6)), nullptr}, {"in place", all(rel(1e-6)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const auto x = randn(count, 21, 3.0f);
    float* out = b.poisoned(count);
    b.backend().gelu_erf(b.up(x), count, out);
    float* inplace = b.up(x);
    b.backend().gelu_erf(inplace, count, inplace);
    return {b.down(out, count), b.down(inplace, count)};
  };
  return c;
}

// Sequences of the given lengths flattened into one batch.
struct Seqs {
  std::vector<int32_t> query_start{0};
  int64_t max_len = 0;
  explicit Seqs(const std::vector<int32_t>& lens) {
    for (int32_t l : lens) {
      query_start.push_back(query_start.back() + l);
      max_len = std::max<int64_t>(max_len, l);
    }
  }
  SequenceBatch on(BackendBuffers& b) const {
    SequenceBatch sb;
    sb.num_seqs = static_cast<int64_t>(query_start.size()) - 1;
    sb.num_tokens = query_start.back();
    sb.max_len = max_len;
    sb.query_start = b.up(query_start);
    sb.host_query_start = query_start.data();
    return sb;
  }
};

// The batch, and each sequence alone: the same bits (no row sees another sequence).
OpCase bidirectional_attention_case(std::vector<int32_t> lens, int64_t heads, int64_t hd) {
  std::string name = case_name("h", heads, "_hd", hd, "_lens");
  for (int32_t l : lens) name += "_" + std::to_string(l);
  OpCase c{"bidirectional_attention", name, nullptr, {{"out", all(rel(2e-6)), nullptr}}, nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const Seqs seqs(lens);
    const int64_t n = seqs.query_start.back(), row = heads * hd;
    const auto q = randn(n * row, 31), k = randn(n * row, 32), v = randn(n * row, 33);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    float* out = b.poisoned(n * row);
    b.backend().bidirectional_attention(b.up(q), b.up(k), b.up(v), heads, hd, seqs.on(b), scale,
                                        out);
    const auto got = b.down(out, n * row);
    for (size_t s = 0; s + 1 < seqs.query_start.size(); ++s) {
      const int64_t b0 = seqs.query_start[s], len = seqs.query_start[s + 1] - b0;
      const Seqs one({static_cast<int32_t>(len)});
      auto part = [&](const std::vector<float>& x) {
        return std::vector<float>(x.begin() + b0 * row, x.begin() + (b0 + len) * row);
      };
      float* o1 = b.poisoned(len * row);
      b.backend().bidirectional_attention(b.up(part(q)), b.up(part(k)), b.up(part(v)), heads, hd,
                                          one.on(b), scale, o1);
      EXPECT_EQ(b.down(o1, len * row), part(got)) << "sequence " << s << " alone vs batched";
    }
    return {got};
  };
  return c;
}

OpCase pool_case(Pooling mode, const char* name) {
  OpCase c{"pool_rows", name, nullptr, {{"pooled", all(rel(1e-6)), nullptr}}, nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const Seqs seqs({1, 7, 300, 2});
    const int64_t dim = 384, n = seqs.query_start.back(), m = 4;
    float* out = b.poisoned(m * dim);
    b.backend().pool_rows(b.up(randn(n * dim, 41)), dim, seqs.on(b), mode, out);
    return {b.down(out, m * dim)};
  };
  return c;
}

OpCase l2_normalize_case(int64_t n, int64_t dim) {
  OpCase c{"l2_normalize",
           case_name("n", n, "_", dim),
           nullptr,
           {{"x", all(rel(1e-6)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    auto x = randn(n * dim, 51, 5.0f);
    for (int64_t c = 0; c < dim; ++c) x[c] = 0.0f;  // a zero row stays zero
    float* p = b.up(x);
    b.backend().l2_normalize(p, n, dim);
    return {b.down(p, n * dim)};
  };
  return c;
}

}  // namespace

std::vector<OpCase> encoder_cases() {
  std::vector<OpCase> cases;
  for (int64_t dim : {1, 7, 384, 1025})
    for (int64_t n : {1, 5}) cases.push_back(layer_norm_case(n, dim));
  for (int64_t count : {1, 7, 1000, 100003}) cases.push_back(gelu_erf_case(count));
  cases.push_back(bidirectional_attention_case({1}, 2, 8));
  cases.push_back(bidirectional_attention_case({5, 1, 17, 33}, 12, 32));
  cases.push_back(bidirectional_attention_case({256, 3}, 4, 64));
  cases.push_back(bidirectional_attention_case({300, 45}, 4, 24));  // the tiny vision tower
  cases.push_back(bidirectional_attention_case({700, 65}, 2, 72));  // SigLIP's heads of 72
  cases.push_back(bidirectional_attention_case({130}, 1, 160));     // wider than the CUDA tiles
  cases.push_back(pool_case(Pooling::kMean, "mean"));
  cases.push_back(pool_case(Pooling::kCls, "cls"));
  cases.push_back(pool_case(Pooling::kLast, "last"));
  for (int64_t dim : {3, 384, 1024}) cases.push_back(l2_normalize_case(4, dim));
  return cases;
}

}  // namespace sluice::testing
