// Op table cases of the mixture-of-experts ops: moe_route (both routings, with ties and NaN),
// matmul_experts (every weight format; shared and per-slot inputs; decode and batched shapes),
// moe_combine.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

// logits [n, experts]: random rows, then a tie (row 0: experts 1 and 3 share the maximum) and a
// NaN (row 1, expert 0) where n allows.
std::vector<float> route_logits(int64_t n, int64_t experts, uint32_t seed) {
  auto l = randn(n * experts, seed, 2.0f);
  if (n > 0 && experts > 3) l[1] = l[3] = 9.0f;
  if (n > 1) l[experts] = NAN;
  return l;
}

OpCase route_case(int64_t n, int64_t experts, int64_t k, MoeRouting mode, bool renorm) {
  OpCase c{"moe_route",
           case_name(mode == MoeRouting::kSoftmaxTopK ? "softmax_topk" : "topk_softmax",
                     renorm ? "_renorm" : "", "_n", n, "_e", experts, "_k", k),
           nullptr,
           {{"ids", all(exact()), nullptr}, {"weights", all(rel(1e-6)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    int32_t* ids = b.up(std::vector<int32_t>(n * k, -1));
    float* w = b.poisoned(n * k);
    b.backend().moe_route(b.up(route_logits(n, experts, 5 + n)), n, experts, k, mode, renorm, ids,
                          w);
    const auto hid = b.down(ids, n * k);
    Outputs out = {std::vector<float>(hid.begin(), hid.end()), b.down(w, n * k)};
    if (experts > 3) {  // the tie goes to the lower id, first
      EXPECT_EQ(hid[0], 1);
      EXPECT_EQ(hid[1], 3);
    }
    return out;
  };
  return c;
}

// Expert ids [n, k] among the first `used` experts (0: all but the last): distinct per token,
// some experts unused, some shared by many tokens.
std::vector<int32_t> expert_ids(int64_t n, int64_t k, int64_t experts, uint32_t seed,
                                int64_t used = 0) {
  std::vector<int32_t> ids(n * k);
  const int64_t m = used > 0 ? used : experts - 1;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t j = 0; j < k; ++j)
      ids[t * k + j] = static_cast<int32_t>((t * 7 + j * 3 + seed) % m);
  return ids;
}

OpCase experts_case(DType t, int64_t n, int64_t k, int64_t experts, int64_t rows, int64_t cols,
                    bool per_slot, int64_t used = 0) {
  const Bound b = rel(is_quantized(t) ? 1e-4 : t == DType::F32 ? 1e-5 : 1e-5);
  const Bound cuda = rel(n * k <= 8 ? 1e-4 : t == DType::BF16 ? 1e-2 : 3e-3);
  OpCase c{"matmul_experts",
           case_name(dtype_name(t), per_slot ? "_per_slot" : "_shared", "_n", n, "_k", k, "_e",
                     experts, "_", rows, "x", cols, used > 0 ? case_name("_used", used) : ""),
           nullptr,
           {{"y", {b, cuda}, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& bb) -> Outputs {
    Backend& be = bb.backend();
    const std::vector<Weight> w =
        be.place_experts(random_weight(t, experts * rows, cols, 40), experts);
    const float* x = bb.up(randn((per_slot ? n * k : n) * cols, 9));
    const int32_t* ids = bb.up(expert_ids(n, k, experts, 2, used));
    float* y = bb.poisoned(n * k * rows);
    be.matmul_experts(x, per_slot, n, w.data(), experts, ids, k, y);
    return {bb.down(y, n * k * rows)};
  };
  return c;
}

// CUDA: float experts over 8 slots, and quantized ones from 1 slot per expert on average (the
// expert GEMM's default), go through tensor-core GEMMs with f16 activations.
Bound fused_bound(DType t, int64_t slots, int64_t experts) {
  return rel(slots > 8 && (!is_quantized(t) || slots >= experts) ? 3e-3 : 1e-4);
}

// matmul_experts_many (gate and up, with biases or not; of x or, normed, of rms_norm(x)) and
// matmul_experts_glu (silu or the clamped SwiGLU, with a bias or not): the fused paths against
// the reference's plain ops.
OpCase experts_many_case(DType t, int64_t n, int64_t k, int64_t experts, bool bias,
                         int64_t rows = 64, int64_t cols = 256, bool normed = false) {
  const int64_t slots = n * k;
  OpCase c{normed ? "matmul_experts_many_normed" : "matmul_experts_many",
           case_name(dtype_name(t), bias ? "_bias" : "", "_n", n, "_k", k, "_e", experts, "_", rows,
                     "x", cols),
           nullptr,
           {{"gate", {rel(1e-4), fused_bound(t, n * k, experts)}, nullptr},
            {"up", {rel(1e-4), fused_bound(t, n * k, experts)}, nullptr}},
           nullptr};
  if (normed) c.checks.push_back({"x left as it was", all(exact()), nullptr});
  c.run = [=](BackendBuffers& bb) -> Outputs {
    Backend& be = bb.backend();
    const auto g = be.place_experts(random_weight(t, experts * rows, cols, 50), experts);
    const auto u = be.place_experts(random_weight(t, experts * rows, cols, 51), experts);
    const float* gb = bias ? bb.up(randn(experts * rows, 52)) : nullptr;
    const float* ub = bias ? bb.up(randn(experts * rows, 53)) : nullptr;
    float *yg = bb.poisoned(slots * rows), *yu = bb.poisoned(slots * rows);
    const Backend::ExpertProduct ps[2] = {{g.data(), gb, yg}, {u.data(), ub, yu}};
    auto x = randn(n * cols, 54);
    const int32_t* ids = bb.up(expert_ids(n, k, experts, 3));
    if (!normed) {
      be.matmul_experts_many(bb.up(x), n, ps, 2, experts, ids, k, bb.poisoned(slots * rows));
      return {bb.down(yg, slots * rows), bb.down(yu, slots * rows)};
    }
    for (float& e : x) e *= 3.0f;  // rms far from 1: a missing scale shows
    float* dx = bb.up(x);
    be.matmul_experts_many_normed(dx, n, bb.up(randn(cols, 55)), 1e-6f, bb.poisoned(n * cols), ps,
                                  2, experts, ids, k, bb.poisoned(slots * rows));
    return {bb.down(yg, slots * rows), bb.down(yu, slots * rows), bb.down(dx, n * cols)};
  };
  return c;
}

// route_experts_many_normed: moe_route, then matmul_experts_many_normed over its ids, as one op
// (CUDA's weight-streaming path routes in the activation pass); each backend's result is also
// the same bits as its two ops.
OpCase routed_experts_case(DType t, int64_t n, int64_t k, int64_t experts, MoeRouting mode) {
  const int64_t slots = n * k, rows = 64, cols = 512;
  OpCase c{
      "route_experts_many_normed",
      case_name(dtype_name(t), mode == MoeRouting::kSoftmaxTopK ? "_softmax_topk" : "_topk_softmax",
                "_n", n, "_k", k, "_e", experts),
      nullptr,
      {{"ids", all(exact()), nullptr},
       {"weights", all(rel(1e-6)), nullptr},
       {"gate", {rel(1e-4), fused_bound(t, slots, experts)}, nullptr},
       {"up", {rel(1e-4), fused_bound(t, slots, experts)}, nullptr},
       {"x left as it was", all(exact()), nullptr}},
      nullptr};
  c.run = [=](BackendBuffers& bb) -> Outputs {
    Backend& be = bb.backend();
    const auto g = be.place_experts(random_weight(t, experts * rows, cols, 70), experts);
    const auto u = be.place_experts(random_weight(t, experts * rows, cols, 71), experts);
    const float* norm = bb.up(randn(cols, 72));
    const float* logits = bb.up(route_logits(n, experts, 73));
    auto x = randn(n * cols, 74);
    for (float& e : x) e *= 3.0f;  // rms far from 1: a missing scale shows
    float* dx = bb.up(x);
    // fused: the one op; apart: moe_route, then the normed products
    int32_t* ids[2] = {bb.up(std::vector<int32_t>(slots, -1)),
                       bb.up(std::vector<int32_t>(slots, -1))};
    float* w[2] = {bb.poisoned(slots), bb.poisoned(slots)};
    float* yg[2] = {bb.poisoned(slots * rows), bb.poisoned(slots * rows)};
    float* yu[2] = {bb.poisoned(slots * rows), bb.poisoned(slots * rows)};
    for (int i = 0; i < 2; ++i) {
      const Backend::ExpertProduct ps[2] = {{g.data(), nullptr, yg[i]}, {u.data(), nullptr, yu[i]}};
      const Backend::Routing r{logits, mode, true, ids[i], w[i]};
      if (i == 0)
        be.route_experts_many_normed(r, dx, n, norm, 1e-6f, bb.poisoned(n * cols), ps, 2, experts,
                                     k, bb.poisoned(slots * rows));
      else {
        be.moe_route(logits, n, experts, k, mode, true, ids[i], w[i]);
        be.matmul_experts_many_normed(dx, n, norm, 1e-6f, bb.poisoned(n * cols), ps, 2, experts,
                                      ids[i], k, bb.poisoned(slots * rows));
      }
    }
    const auto hid = bb.down(ids[0], slots);
    EXPECT_EQ(hid, bb.down(ids[1], slots)) << "fused vs moe_route then the products";
    EXPECT_EQ(bb.down(w[0], slots), bb.down(w[1], slots)) << "fused vs apart: weights";
    EXPECT_EQ(bb.down(yg[0], slots * rows), bb.down(yg[1], slots * rows)) << "fused vs apart: gate";
    EXPECT_EQ(bb.down(yu[0], slots * rows), bb.down(yu[1], slots * rows)) << "fused vs apart: up";
    return {std::vector<float>(hid.begin(), hid.end()), bb.down(w[0], slots),
            bb.down(yg[0], slots * rows), bb.down(yu[0], slots * rows), bb.down(dx, n * cols)};
  };
  return c;
}

OpCase experts_glu_case(DType t, int64_t n, int64_t k, int64_t experts, bool clamped, bool bias,
                        int64_t rows = 48, int64_t cols = 256) {
  const int64_t slots = n * k;
  OpCase c{"matmul_experts_glu",
           case_name(dtype_name(t), clamped ? "_clamped" : "_silu", bias ? "_bias" : "", "_n", n,
                     "_k", k, "_e", experts, "_", rows, "x", cols),
           nullptr,
           {{"y", {rel(1e-4), fused_bound(t, n * k, experts)}, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& bb) -> Outputs {
    Backend& be = bb.backend();
    const auto d = be.place_experts(random_weight(t, experts * rows, cols, 60), experts);
    float* gate = bb.up(randn(slots * cols, 61, 3.0f));  // past the clamp's limit at times
    const float* up = bb.up(randn(slots * cols, 62, 3.0f));
    float* y = bb.poisoned(slots * rows);
    const Glu glu = clamped ? Glu{1.702f, 7.0f} : Glu{};
    be.matmul_experts_glu(gate, up, glu, n,
                          {d.data(), bias ? bb.up(randn(experts * rows, 63)) : nullptr, y}, experts,
                          bb.up(expert_ids(n, k, experts, 4)), k, bb.poisoned(slots * rows));
    return {bb.down(y, slots * rows)};
  };
  return c;
}

// accumulate: into a residual (out += the sum).
OpCase combine_case(int64_t n, int64_t k, int64_t dim, bool accumulate) {
  OpCase c{"moe_combine",
           case_name("n", n, "_k", k, "_", dim, accumulate ? "_add" : ""),
           nullptr,
           {{"out", all(rel(1e-6)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    float* out = accumulate ? b.up(randn(n * dim, 5)) : b.poisoned(n * dim);
    b.backend().moe_combine(b.up(randn(n * k * dim, 3)), b.up(randn(n * k, 4)), n, k, dim, out,
                            accumulate);
    return {b.down(out, n * dim)};
  };
  return c;
}

}  // namespace

std::vector<OpCase> moe_cases() {
  std::vector<OpCase> cases;
  for (auto mode : {MoeRouting::kSoftmaxTopK, MoeRouting::kTopKSoftmax})
    for (int64_t n : {1, 3, 37})
      for (bool renorm : {false, true}) cases.push_back(route_case(n, 16, 4, mode, renorm));
  cases.push_back(route_case(5, 128, 8, MoeRouting::kSoftmaxTopK, true));
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32, DType::Q8G16,
                  DType::MXFP4, DType::Q6G16})
    for (int64_t n : {1, 2, 33})
      for (bool per_slot : {false, true})
        cases.push_back(experts_case(t, n, 2, 5, 48, 256, per_slot));
  for (int64_t n : {1, 3, 6, 64})  // one block per slot; CUDA's expert GEMM
    cases.push_back(experts_case(DType::Q4G32, n, 8, 16, 64, 512, false));
  // Fewer slots than experts, 4 experts used: CUDA's weight-streaming kernel grouped by 8, in
  // chunks (about 10 slots per expert used).
  cases.push_back(experts_case(DType::Q4G32, 20, 2, 64, 64, 512, false, 4));
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::F16, DType::MXFP4})
    for (int64_t n : {1, 9, 100})  // 9 and 100: the expert GEMM on CUDA
      for (bool bias : {false, true}) {
        cases.push_back(experts_many_case(t, n, 4, 8, bias));
        cases.push_back(experts_glu_case(t, n, 4, 8, bias, bias));
        cases.push_back(experts_glu_case(t, n, 4, 8, !bias, bias));
      }
  // Normed: the weight-streaming kernel quantizes norm(x) itself (one token: Qwen3's 128
  // experts, 8 a token); the GEMM's batches take the plain path.
  for (DType t : {DType::Q4G32, DType::Q8G16, DType::MXFP4, DType::F32, DType::Q6G16})
    for (int64_t n : {1, 3, 40})
      cases.push_back(experts_many_case(t, n, 8, 128, t == DType::MXFP4, 64, 512, true));
  // Routed in the activation pass (CUDA: 1 and 3 tokens; 40 on the GEMM routes first), 128 or
  // 32 experts (the routing's 4 and 1 keys a lane).
  for (DType t : {DType::Q4G32, DType::MXFP4})
    for (int64_t n : {1, 3, 40}) {
      cases.push_back(routed_experts_case(t, n, 8, 128, MoeRouting::kSoftmaxTopK));
      cases.push_back(routed_experts_case(t, n, 4, 32, MoeRouting::kTopKSoftmax));
    }
  // CUDA's expert GEMM tiles: 10, 24 and 100 slots per expert (16-, 32- and 64-slot chunks, the
  // last several per expert), 200 rows (a partial second row block), two products a launch.
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4, DType::Q6G16})
    for (int64_t n : {20, 48, 200}) {
      cases.push_back(experts_many_case(t, n, 4, 8, n != 48, 200, 320));
      cases.push_back(experts_glu_case(t, n, 4, 8, n == 48, n != 20, 200, 320));
    }
  for (int64_t n : {1, 4, 29})
    for (bool accumulate : {false, true}) cases.push_back(combine_case(n, 4, 96, accumulate));
  return cases;
}

}  // namespace sluice::testing
