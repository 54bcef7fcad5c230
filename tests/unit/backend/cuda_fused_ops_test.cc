// The CUDA backend's fused ops against the ops they replace: add_rms_norm bit for bit,
// prepare_qkv (per-head norms, RoPE, cache write) against the reference ops, norms and residual
// adds folded into the products against the reference. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "backend/reference/ref_ops.h"
#include "common/half.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;
using testing::rel_l2;

// matmul_many_normed, matmul_add and matmul_add_gated against the reference ops (norm, silu,
// products, add), for float and quantized weights at the batch sizes the fold is offered at,
// shared launches included. Quantized weights take int16 activations (tolerance as the
// weight-streaming products' against the float reference, cuda_ops_test.cc).
TEST_F(CudaOps, FoldedNormsAndResidualAddsMatchTheReference) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G16}) {
    const double tol = is_quantized(t) ? 1e-4 : 1e-5;
    for (int64_t n : {1, 2, 3, 8}) {
      const int64_t cols = 1024, rows_a = 260, rows_b = 67;
      const Weight wa = random_weight(t, rows_a, cols, 21), wb = random_weight(t, rows_b, cols, 22);
      ASSERT_TRUE(gpu_->folds_norms(n, wa)) << dtype_name(t) << " n=" << n;
      const Weight da = gpu_->place(wa), db = gpu_->place(wb);
      auto x = randn(n * cols, 23 + n);
      for (float& e : x) e *= 3.0f;  // rms far from 1: a missing scale shows
      const auto g = randn(cols, 24);
      float* dx = up(x);
      float* ya = poisoned(n * rows_a);
      float* yb = poisoned(n * rows_b);
      const Backend::Product ps[] = {{&da, ya}, {&db, yb}};
      gpu_->matmul_many_normed(dx, n, up(g), 1e-5f, poisoned(n * cols), ps, 2);
      std::vector<float> h(n * cols), want_a(n * rows_a), want_b(n * rows_b);
      ref::rms_norm(x.data(), n, cols, g.data(), 1e-5f, h.data());
      ref::matmul(h.data(), n, wa, want_a.data());
      ref::matmul(h.data(), n, wb, want_b.data());
      EXPECT_LT(rel_l2(down(ya, want_a.size()), want_a), tol) << dtype_name(t) << " n=" << n;
      EXPECT_LT(rel_l2(down(yb, want_b.size()), want_b), tol) << dtype_name(t) << " n=" << n;
      EXPECT_EQ(down(dx, x.size()), x) << "x is left as it was";

      // y += x . w^T into a residual stream y.
      const auto res = randn(n * rows_a, 25);
      float* dy = up(res);
      gpu_->matmul_add(dx, n, da, dy, poisoned(n * rows_a));
      std::vector<float> want(n * rows_a);
      ref::matmul(x.data(), n, wa, want.data());
      for (size_t i = 0; i < want.size(); ++i) want[i] += res[i];
      EXPECT_LT(rel_l2(down(dy, want.size()), want), tol) << dtype_name(t) << " n=" << n;

      // y += (silu(gate) * up) . w^T (folded for quantized weights, the plain ops otherwise).
      const auto upv = randn(n * cols, 26);
      float* dy2 = up(res);
      gpu_->matmul_add_gated(up(x), up(upv), n, da, dy2, poisoned(n * rows_a));
      std::vector<float> act(n * cols);
      for (size_t i = 0; i < act.size(); ++i) act[i] = x[i] / (1.0f + std::exp(-x[i])) * upv[i];
      ref::matmul(act.data(), n, wa, want.data());
      for (size_t i = 0; i < want.size(); ++i) want[i] += res[i];
      EXPECT_LT(rel_l2(down(dy2, want.size()), want), tol) << dtype_name(t) << " n=" << n;
    }
  }
  EXPECT_FALSE(gpu_->folds_norms(9, random_weight(DType::BF16, 64, 256, 27)))
      << "larger batches take the GEMMs and separate norms";
}

TEST_F(CudaOps, AddRmsNormEqualsAddThenNorm) {
  const int64_t n = 5, dim = 576;
  const auto x = randn(n * dim, 1), r = randn(n * dim, 2), w = randn(dim, 3);
  float* x1 = up(x);
  float* r1 = up(r);  // the output aliases the residual, as in the model
  gpu_->add_rms_norm(x1, r1, n, dim, up(w), 1e-5f, r1);
  float* x2 = up(x);
  float* y2 = poisoned(n * dim);
  gpu_->add(x2, up(r), n * dim);
  gpu_->rms_norm(x2, n, dim, up(w), 1e-5f, y2);
  EXPECT_EQ(down(x1, n * dim), down(x2, n * dim));
  EXPECT_EQ(down(r1, n * dim), down(y2, n * dim));
}

TEST_F(CudaOps, PrepareQkvMatchesTheReferenceOps) {
  const int64_t n = 5, heads = 8, kv_heads = 2, block_size = 4, num_blocks = 6;
  const std::vector<int32_t> pos = {0, 3, 17, 200, 4000};
  const std::vector<int32_t> slots = {5, -1, 0, 22, 9};  // -1: padding, not written
  for (int64_t hd : {64, 128}) {
    for (bool norms : {false, true}) {
      for (bool interleaved : {false, true}) {
        for (int64_t rotary : {hd, hd / 2}) {
          const auto q = randn(n * heads * hd, 4), k = randn(n * kv_heads * hd, 5);
          const auto v = randn(n * kv_heads * hd, 6);
          const auto qn = randn(hd, 7), kn = randn(hd, 8);
          RopeParams rope{rotary, 10000.0f, interleaved, nullptr};
          std::vector<float> inv(rotary / 2);
          ref::default_inv_freq(rope, inv.data());
          // Reference: the unfused ops on the host.
          std::vector<float> want_q = q, want_k = k;
          if (norms) {
            ref::rms_norm(want_q.data(), n * heads, hd, qn.data(), 1e-6f, want_q.data());
            ref::rms_norm(want_k.data(), n * kv_heads, hd, kn.data(), 1e-6f, want_k.data());
          }
          rope.inv_freq = inv.data();
          ref::rope(want_q.data(), n, heads, hd, pos.data(), rope);
          ref::rope(want_k.data(), n, kv_heads, hd, pos.data(), rope);

          const int64_t row = kv_heads * hd, cache_elems = num_blocks * block_size * row;
          KvLayerView cache{poisoned_kv(cache_elems), poisoned_kv(cache_elems), num_blocks,
                            block_size, kv_heads, hd, gpu_->kv_dtype()};
          QkvInputs in;
          in.q = up(q), in.k = up(k), in.v = up(v);
          in.n = n, in.num_heads = heads, in.num_kv_heads = kv_heads, in.head_dim = hd;
          if (norms) in.q_norm = up(qn), in.k_norm = up(kn);
          in.eps = 1e-6f;
          in.positions = up(pos);
          in.rope = rope;
          in.rope.inv_freq = up(inv);
          in.slot_mapping = up(slots);
          gpu_->prepare_qkv(in, cache);

          const auto what = ::testing::Message() << "hd=" << hd << " norms=" << norms
                                                  << " interleaved=" << interleaved
                                                  << " rotary=" << rotary;
          const auto got_k = down(in.k, k.size());
          EXPECT_LT(rel_l2(down(in.q, q.size()), want_q), 1e-5) << what;
          EXPECT_LT(rel_l2(got_k, want_k), 1e-5) << what;
          // The cache holds exactly the returned k and the given v (in the cache dtype) at the
          // mapped slots, and nothing elsewhere.
          const auto kc = down_kv(cache.k, cache_elems), vc = down_kv(cache.v, cache_elems);
          auto stored = [&](float f) {
            return gpu_->kv_dtype() == KvDtype::F16 ? f16_to_f32(f32_to_f16(f)) : f;
          };
          for (int64_t slot = 0; slot < num_blocks * block_size; ++slot) {
            const auto it = std::find(slots.begin(), slots.end(), slot);
            for (int64_t j = 0; j < row; ++j) {
              if (it == slots.end()) {
                ASSERT_TRUE(std::isnan(kc[slot * row + j])) << what << " slot " << slot;
                continue;
              }
              const int64_t t = it - slots.begin();
              ASSERT_EQ(kc[slot * row + j], stored(got_k[t * row + j])) << what;
              ASSERT_EQ(vc[slot * row + j], stored(v[t * row + j])) << what;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice
