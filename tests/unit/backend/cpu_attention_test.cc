// The CPU backend's f16 KV cache (the reference has none): cache_write rounds bit for bit and
// attention over it equals the reference's over the rounded values. The f32 cache and every other
// attention shape are in the op table (op_cases_attention.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::rel_l2;

// An f16 cache (set_kv_dtype): cache_write stores f32_to_f16 of each value (bit for bit), and
// attention over it equals the reference's f32 attention over the same rounded values, also
// with the tile rows split by chunks and threads; a position past the context stays unread.
TEST(PagedAttention, F16CacheMatchesReferenceOnRoundedValues) {
  const int64_t heads = 6, kv_heads = 2, hd = 64, bs = 16, num_blocks = 12;
  const int64_t kv_row = kv_heads * hd, elems = num_blocks * bs * kv_row;
  const std::vector<int32_t> table = {7, 3, 10, 1, 5};  // 80 positions over shuffled blocks
  const int32_t ctx = 70, new_tokens = 3;               // prefill of 3 tokens at 67..69
  const auto rounded = [](std::vector<float> x) {
    for (float& f : x) f = f16_to_f32(f32_to_f16(f));
    return x;
  };
  const auto kv = rounded(randn(2 * ctx * kv_row, 8));
  std::vector<uint16_t> k16(elems, 0x7E00), v16(elems, 0x7E00);  // NaN where never written
  std::vector<float> kf(elems, NAN), vf(elems, NAN);
  std::vector<int32_t> slots;
  for (int32_t p = 0; p < ctx; ++p) {
    const int64_t slot = int64_t{table[p / bs]} * bs + p % bs;
    for (int64_t e = 0; e < kv_row; ++e) {
      kf[slot * kv_row + e] = kv[2 * p * kv_row + e];
      vf[slot * kv_row + e] = kv[(2 * p + 1) * kv_row + e];
      if (p < ctx - new_tokens) {
        k16[slot * kv_row + e] = f32_to_f16(kf[slot * kv_row + e]);
        v16[slot * kv_row + e] = f32_to_f16(vf[slot * kv_row + e]);
      }
    }
    if (p >= ctx - new_tokens) slots.push_back(static_cast<int32_t>(slot));
  }
  // The new tokens' K/V as f32 (not yet rounded: cache_write rounds them).
  auto knew = randn(new_tokens * kv_row, 9), vnew = randn(new_tokens * kv_row, 10);
  for (int32_t t = 0; t < new_tokens; ++t)
    for (int64_t e = 0; e < kv_row; ++e) {
      kf[slots[t] * kv_row + e] = f16_to_f32(f32_to_f16(knew[t * kv_row + e]));
      vf[slots[t] * kv_row + e] = f16_to_f32(f32_to_f16(vnew[t * kv_row + e]));
    }
  for (int threads : {1, 2}) {
    auto cpu = make_cpu_backend(threads);
    ASSERT_TRUE(cpu->set_kv_dtype(KvDtype::F16));
    auto k_cache = k16, v_cache = v16;
    KvLayerView cache{k_cache.data(), v_cache.data(), num_blocks, bs, kv_heads, hd, KvDtype::F16};
    cpu->cache_write(knew.data(), vnew.data(), new_tokens, slots.data(), cache);
    for (int32_t t = 0; t < new_tokens; ++t)
      for (int64_t e = 0; e < kv_row; ++e) {
        ASSERT_EQ(k_cache[slots[t] * kv_row + e], f32_to_f16(knew[t * kv_row + e]));
        ASSERT_EQ(v_cache[slots[t] * kv_row + e], f32_to_f16(vnew[t * kv_row + e]));
      }
    const std::vector<int32_t> qs = {0, new_tokens}, pos = {ctx - 3, ctx - 2, ctx - 1};
    AttentionBatch b{1,
                     new_tokens,
                     ctx,
                     qs.data(),
                     pos.data(),
                     table.data(),
                     static_cast<int64_t>(table.size()),
                     slots.data()};
    const auto q = randn(new_tokens * heads * hd, 11);
    std::vector<float> got(q.size()), want(q.size());
    cpu->paged_attention(q.data(), heads, cache, b, 0.125f, got.data());
    KvLayerView ref_cache{kf.data(), vf.data(), num_blocks, bs, kv_heads, hd};
    make_reference_backend()->paged_attention(q.data(), heads, ref_cache, b, 0.125f, want.data());
    for (float f : got) ASSERT_FALSE(std::isnan(f));
    EXPECT_LT(rel_l2(got, want), 1e-5) << "threads=" << threads;
  }
  EXPECT_FALSE(make_reference_backend()->set_kv_dtype(KvDtype::F16));
}

}  // namespace
}  // namespace sluice
