// The CUDA backend's fused ops against the ops they replace: add_rms_norm bit for bit,
// prepare_qkv (per-head norms, RoPE, cache write) against the reference ops. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/ref_ops.h"
#include "common/half.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::rel_l2;

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
