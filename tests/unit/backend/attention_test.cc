// cache_write + paged_attention of the CPU backend vs the reference (contiguous K/V gathered
// from the block table, plain softmax), on shuffled non-contiguous block tables, with sequences
// mixing a prefill chunk at a nonzero offset and single-token decodes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "backend/backend.h"
#include "common/half.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::rel_l2;

struct SeqSpec {
  int32_t first_pos;  // position of the first scheduled token
  int32_t num_tokens;
};

struct AttnCase {
  int64_t num_heads, num_kv_heads, head_dim, block_size;
};

void run_case(const AttnCase& c, int threads) {
  const std::vector<SeqSpec> seqs = {{40, 1}, {13, 20}, {0, 1}, {0, 7}, {100, 1}, {31, 2}};
  int64_t needed = 0;
  for (const auto& s : seqs)
    needed += (s.first_pos + s.num_tokens + c.block_size - 1) / c.block_size;
  const int64_t num_blocks = needed + 9;  // spare blocks stay unreferenced (NaN)
  const int64_t kv_row = c.num_kv_heads * c.head_dim;
  const int64_t cache_elems = num_blocks * c.block_size * kv_row;
  // Unreferenced cache space is NaN so any out-of-range read shows up.
  std::vector<float> k_cache(cache_elems, NAN), v_cache(cache_elems, NAN);
  KvLayerView cache{k_cache.data(), v_cache.data(), num_blocks,
                    c.block_size,   c.num_kv_heads, c.head_dim};

  // Shuffled block ids (block 0 is the reserved null block).
  std::vector<int32_t> ids(num_blocks - 1);
  std::iota(ids.begin(), ids.end(), 1);
  std::mt19937 rng(42 + c.block_size);
  std::shuffle(ids.begin(), ids.end(), rng);
  int64_t max_blocks = 0;
  for (const auto& s : seqs)
    max_blocks = std::max<int64_t>(max_blocks,
                                   (s.first_pos + s.num_tokens + c.block_size - 1) / c.block_size);
  std::vector<int32_t> tables(seqs.size() * max_blocks, 0), query_start = {0}, positions, slots;
  size_t next = 0;
  auto kv_rand = randn(2 * 200 * kv_row, 7);
  size_t kv_used = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int32_t len = seqs[s].first_pos + seqs[s].num_tokens;
    for (int64_t b = 0; b < (len + c.block_size - 1) / c.block_size; ++b)
      tables[s * max_blocks + b] = ids.at(next++);
    // Earlier context is already in the cache.
    for (int32_t p = 0; p < seqs[s].first_pos; ++p) {
      const int64_t slot =
          tables[s * max_blocks + p / c.block_size] * c.block_size + p % c.block_size;
      std::copy_n(&kv_rand[kv_used], kv_row, &k_cache[slot * kv_row]);
      std::copy_n(&kv_rand[kv_used + kv_row], kv_row, &v_cache[slot * kv_row]);
      kv_used += 2 * kv_row;
    }
    for (int32_t p = seqs[s].first_pos; p < len; ++p) {
      positions.push_back(p);
      slots.push_back(tables[s * max_blocks + p / c.block_size] *
                          static_cast<int32_t>(c.block_size) +
                      p % static_cast<int32_t>(c.block_size));
    }
    query_start.push_back(static_cast<int32_t>(positions.size()));
  }
  const int64_t n = static_cast<int64_t>(positions.size());
  const auto q = randn(n * c.num_heads * c.head_dim, 3);
  const auto k = randn(n * kv_row, 4), v = randn(n * kv_row, 5);

  auto cpu = make_cpu_backend(threads);
  auto ref = make_reference_backend();
  auto k_ref = k_cache, v_ref = v_cache;
  KvLayerView cache_ref{k_ref.data(), v_ref.data(),   num_blocks,
                        c.block_size, c.num_kv_heads, c.head_dim};
  cpu->cache_write(k.data(), v.data(), n, slots.data(), cache);
  ref->cache_write(k.data(), v.data(), n, slots.data(), cache_ref);
  for (int64_t i = 0; i < cache_elems; ++i) {
    ASSERT_TRUE((std::isnan(k_cache[i]) && std::isnan(k_ref[i])) || k_cache[i] == k_ref[i]);
    ASSERT_TRUE((std::isnan(v_cache[i]) && std::isnan(v_ref[i])) || v_cache[i] == v_ref[i]);
  }

  AttentionBatch batch;
  batch.num_seqs = static_cast<int64_t>(seqs.size());
  batch.query_start = query_start.data();
  batch.positions = positions.data();
  batch.block_tables = tables.data();
  batch.max_blocks_per_seq = max_blocks;
  batch.slot_mapping = slots.data();
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  std::vector<float> got(q.size()), want(q.size());
  cpu->paged_attention(q.data(), c.num_heads, cache, batch, scale, got.data());
  ref->paged_attention(q.data(), c.num_heads, cache_ref, batch, scale, want.data());
  for (float f : got) ASSERT_FALSE(std::isnan(f));
  EXPECT_LT(rel_l2(got, want), 1e-5)
      << "heads=" << c.num_heads << "/" << c.num_kv_heads << " head_dim=" << c.head_dim
      << " bs=" << c.block_size << " threads=" << threads;
}

TEST(PagedAttention, MatchesContiguousReference) {
  const AttnCase cases[] = {
      {6, 2, 64, 16}, {4, 4, 32, 5},  {9, 3, 64, 1},
      {8, 1, 128, 32}, {2, 2, 20, 7}, {4, 2, 112, 16}};  // 112: 4 + 2 + 1 vectors of 16 lanes
  for (int threads : {1, 2})
    for (const auto& c : cases) run_case(c, threads);
}

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
    KvLayerView cache{k_cache.data(), v_cache.data(), num_blocks, bs, kv_heads, hd,
                      KvDtype::F16};
    cpu->cache_write(knew.data(), vnew.data(), new_tokens, slots.data(), cache);
    for (int32_t t = 0; t < new_tokens; ++t)
      for (int64_t e = 0; e < kv_row; ++e) {
        ASSERT_EQ(k_cache[slots[t] * kv_row + e], f32_to_f16(knew[t * kv_row + e]));
        ASSERT_EQ(v_cache[slots[t] * kv_row + e], f32_to_f16(vnew[t * kv_row + e]));
      }
    const std::vector<int32_t> qs = {0, new_tokens}, pos = {ctx - 3, ctx - 2, ctx - 1};
    AttentionBatch b{1, new_tokens, ctx, qs.data(), pos.data(), table.data(),
                     static_cast<int64_t>(table.size()), slots.data()};
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

TEST(PagedAttention, ReferenceMatchesHandComputedSoftmax) {
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

}  // namespace
}  // namespace sluice
