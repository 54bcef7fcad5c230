// Op table cases of the recurrent ops (gated delta-net layers): causal_conv1d_silu,
// gated_delta_rule, sigmoid_mul. Batches mix sequence lengths (1, 2, 3, 17, 70 rows), fresh and
// carried states, and slots out of order; outputs and every slot's state are compared.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "op_table.h"
#include "recurrent_batch.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

constexpr int32_t kNumSlots = 7;
// Five sequences in slots 5, 0, 3, 6, 2 (1, 4 untouched); the 2nd and 4th start fresh.
const RecurrentSeqs& mixed_batch() {
  static const RecurrentSeqs seqs({3, 70, 1, 17, 2}, {5, 0, 3, 6, 2}, {0, 1, 0, 1, 0});
  return seqs;
}

// Every slot's initial state random (fresh sequences must ignore theirs).
OpCase conv_case(int64_t channels, int64_t kernel) {
  OpCase c{"causal_conv1d_silu",
           case_name("c", channels, "_k", kernel),
           nullptr,
           {{"out", {rel(5e-7), rel(1e-6)}, nullptr},
            {"state", all(exact()), nullptr},
            {"out in place", {rel(5e-7), rel(1e-6)}, nullptr},
            {"state in place", all(exact()), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const RecurrentSeqs& seqs = mixed_batch();
    const int64_t n = seqs.num_tokens(), state_size = kNumSlots * (kernel - 1) * channels;
    const auto x = randn(n * channels, 61), st = randn(state_size, 62);
    const float* w = b.up(randn(channels * kernel, 63, 0.5f));
    const RecurrentBatch batch = seqs.on(b);
    float* state = b.up(st);
    float* out = b.poisoned(n * channels);
    b.backend().causal_conv1d_silu(b.up(x), channels, w, kernel, state, batch, out);
    float* state2 = b.up(st);
    float* inplace = b.up(x);
    b.backend().causal_conv1d_silu(inplace, channels, w, kernel, state2, batch, inplace);
    return {b.down(out, n * channels), b.down(state, state_size), b.down(inplace, n * channels),
            b.down(state2, state_size)};
  };
  return c;
}

OpCase delta_rule_case(int64_t hk, int64_t hv, int64_t dk, int64_t dv, bool tiled) {
  OpCase c{"gated_delta_rule",
           case_name("hk", hk, "_hv", hv, "_dk", dk, "_dv", dv, tiled ? "_tiled" : ""),
           nullptr,
           {{"out", {rel(2e-6), rel(5e-6)}, nullptr}, {"state", {rel(1e-6), rel(3e-6)}, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    DeltaNetShape shape;
    shape.num_k_heads = hk;
    shape.num_v_heads = hv;
    shape.head_k_dim = dk;
    shape.head_v_dim = dv;
    shape.heads_tiled = tiled;
    const RecurrentSeqs& seqs = mixed_batch();
    const int64_t n = seqs.num_tokens(), state_size = kNumSlots * shape.state_floats();
    auto a_neg = randn(hv, 73);
    for (float& v : a_neg) v = -std::exp(v);  // -exp(A_log)
    const RecurrentBatch batch = seqs.on(b);
    float* state = b.up(randn(state_size, 74, 0.3f));
    float* out = b.poisoned(n * hv * dv);
    b.backend().gated_delta_rule(b.up(randn(n * shape.qkv_dim(), 75)), b.up(randn(n * hv, 76)),
                                 b.up(randn(n * hv, 77, 2.0f)), b.up(a_neg), b.up(randn(hv, 78)),
                                 shape, state, batch, out);
    return {b.down(out, n * hv * dv), b.down(state, state_size)};
  };
  return c;
}

OpCase sigmoid_mul_case(int64_t n, int64_t dim, int64_t gate_dim) {
  OpCase c{"sigmoid_mul",
           case_name("n", n, "_", dim, "_gate", gate_dim),
           nullptr,
           {{"x", {rel(3e-7), rel(1e-6)}, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    auto gate = randn(n * gate_dim, 82, 4.0f);
    gate[0] = 100.0f;  // far into both tails
    gate[n * gate_dim - 1] = -100.0f;
    float* x = b.up(randn(n * dim, 81));
    b.backend().sigmoid_mul(x, b.up(gate), n, dim, gate_dim);
    return {b.down(x, n * dim)};
  };
  return c;
}

}  // namespace

std::vector<OpCase> recurrent_cases() {
  std::vector<OpCase> cases;
  for (int64_t channels : {5, 64, 300})
    for (int64_t kernel : {1, 2, 4}) cases.push_back(conv_case(channels, kernel));
  for (int64_t d : {16, 128}) {
    cases.push_back(delta_rule_case(2, 2, d, d, false));
    cases.push_back(delta_rule_case(2, 4, d, d, false));
    cases.push_back(delta_rule_case(2, 4, d, d, true));
  }
  cases.push_back(delta_rule_case(1, 3, 24, 40, false));  // columns past the last full vector
  for (int64_t dim : {7, 256}) {
    cases.push_back(sigmoid_mul_case(5, dim, dim));
    cases.push_back(sigmoid_mul_case(5, dim, 1));
  }
  return cases;
}

}  // namespace sluice::testing
