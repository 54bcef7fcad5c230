// Backend::decode_layers on the CUDA backend (one persistent launch for every layer of a
// one-token step) against the ops ModelRunner runs otherwise: the residual stream after the
// last layer and the new token's cache rows. Random weights and norms, a paged cache filled
// with random K/V through a shuffled block table; contexts short and long (split in pieces).
// Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <cstdlib>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::rel_l2;

struct Shape {
  DType dtype;
  int64_t layers, hidden, inter, heads, kv_heads, head_dim;
  bool qk_norm;
};

class CudaDecodeLayers : public CudaOps {
 protected:
  // The fused path is opt-in (SLUICE_CUDA_DECODE_LAYERS=1, read when the backend is made).
  void SetUp() override {
    setenv("SLUICE_CUDA_DECODE_LAYERS", "1", 1);
    CudaOps::SetUp();
    unsetenv("SLUICE_CUDA_DECODE_LAYERS");
  }

  // Runs both ways at `pos` and compares (fails when the backend does not offer the shape).
  void check(const Shape& sh, int32_t pos, uint32_t seed) {
    SCOPED_TRACE(::testing::Message() << "dtype " << dtype_name(sh.dtype) << " hd " << sh.head_dim
                                      << " group " << sh.heads / sh.kv_heads << " pos " << pos);
    const int64_t q_dim = sh.heads * sh.head_dim, kv_dim = sh.kv_heads * sh.head_dim;
    const int64_t block_size = 16, num_blocks = (pos + block_size) / block_size + 3;
    const int64_t cache_elems = num_blocks * block_size * kv_dim;
    std::mt19937 rng(seed);
    // A shuffled block table: the sequence's blocks are not the cache's first ones in order.
    std::vector<int32_t> table(num_blocks);
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), rng);
    const int32_t slot = table[pos / block_size] * block_size + pos % block_size;

    struct LayerData {
      Weight wq, wk, wv, wo, wg, wu, wd;
      float *attn_norm, *ffn_norm, *q_norm = nullptr, *k_norm = nullptr;
      std::vector<uint16_t> k_cache, v_cache;  // f16 bits, random
    };
    std::vector<LayerData> L(sh.layers);
    auto norm_vec = [&](int64_t n, uint32_t s) {
      std::vector<float> v = randn(n, s, 0.1f);
      for (float& f : v) f += 1.0f;
      return up(v);
    };
    uint32_t s = seed * 100;
    for (LayerData& l : L) {
      l.wq = gpu_->place(testing::random_weight(sh.dtype, q_dim, sh.hidden, ++s));
      l.wk = gpu_->place(testing::random_weight(sh.dtype, kv_dim, sh.hidden, ++s));
      l.wv = gpu_->place(testing::random_weight(sh.dtype, kv_dim, sh.hidden, ++s));
      l.wo = gpu_->place(testing::random_weight(sh.dtype, sh.hidden, q_dim, ++s));
      l.wg = gpu_->place(testing::random_weight(sh.dtype, sh.inter, sh.hidden, ++s));
      l.wu = gpu_->place(testing::random_weight(sh.dtype, sh.inter, sh.hidden, ++s));
      l.wd = gpu_->place(testing::random_weight(sh.dtype, sh.hidden, sh.inter, ++s));
      l.attn_norm = norm_vec(sh.hidden, ++s);
      l.ffn_norm = norm_vec(sh.hidden, ++s);
      if (sh.qk_norm) l.q_norm = norm_vec(sh.head_dim, ++s), l.k_norm = norm_vec(sh.head_dim, ++s);
      for (auto* c : {&l.k_cache, &l.v_cache}) {
        const std::vector<float> r = randn(cache_elems, ++s);
        c->resize(cache_elems);
        for (int64_t i = 0; i < cache_elems; ++i) (*c)[i] = f32_to_f16(r[i]);
      }
    }
    std::vector<float> inv_freq(sh.head_dim / 2);
    for (size_t i = 0; i < inv_freq.size(); ++i)
      inv_freq[i] = std::pow(10000.0f, -2.0f * i / sh.head_dim);
    const RopeParams rope{sh.head_dim, 10000.0f, false, up(inv_freq)};
    const float eps = 1e-5f, scale = 1.0f / std::sqrt(static_cast<float>(sh.head_dim));
    const std::vector<float> x0 = randn(sh.hidden, seed + 7);
    const int32_t* d_pos = up(std::vector<int32_t>{pos});
    const int32_t* d_slot = up(std::vector<int32_t>{slot});
    const int32_t* d_table = up(table);
    const int32_t* d_qs = up(std::vector<int32_t>{0, 1});
    float *q = poisoned(q_dim), *k = poisoned(kv_dim), *v = poisoned(kv_dim);
    float *attn = poisoned(q_dim), *gate = poisoned(sh.inter), *upb = poisoned(sh.inter);
    float *h = poisoned(sh.hidden);

    auto caches = [&] {
      std::vector<KvLayerView> views;
      for (LayerData& l : L) {
        KvLayerView c;
        c.k = up(l.k_cache), c.v = up(l.v_cache);
        c.num_blocks = num_blocks, c.block_size = block_size, c.num_kv_heads = sh.kv_heads;
        c.head_dim = sh.head_dim, c.dtype = KvDtype::F16;
        views.push_back(c);
      }
      return views;
    };

    // The ops, as ModelRunner::issue runs them for one token.
    const std::vector<KvLayerView> ref_cache = caches();
    float* xr = up(x0);
    AttentionBatch ab;
    ab.num_seqs = 1, ab.num_tokens = 1, ab.max_context = pos + 1;
    ab.query_start = d_qs, ab.positions = d_pos, ab.block_tables = d_table;
    ab.max_blocks_per_seq = num_blocks, ab.slot_mapping = d_slot;
    const int32_t host_qs[2] = {0, 1};
    ab.host_query_start = host_qs, ab.host_positions = &pos;
    gpu_->rms_norm(xr, 1, sh.hidden, L[0].attn_norm, eps, h);
    for (int64_t li = 0; li < sh.layers; ++li) {
      LayerData& l = L[li];
      const Backend::Product qkv[] = {{&l.wq, q}, {&l.wk, k}, {&l.wv, v}};
      gpu_->matmul_many(h, 1, qkv, 3);
      QkvInputs in;
      in.q = q, in.k = k, in.v = v, in.n = 1, in.num_heads = sh.heads;
      in.num_kv_heads = sh.kv_heads, in.head_dim = sh.head_dim;
      in.q_norm = l.q_norm, in.k_norm = l.k_norm, in.eps = eps, in.positions = d_pos;
      in.rope = rope, in.slot_mapping = d_slot;
      gpu_->prepare_qkv(in, ref_cache[li]);
      gpu_->paged_attention(q, sh.heads, ref_cache[li], ab, scale, attn);
      gpu_->matmul(attn, 1, l.wo, h);
      gpu_->add_rms_norm(xr, h, 1, sh.hidden, l.ffn_norm, eps, h);
      const Backend::Product gu[] = {{&l.wg, gate}, {&l.wu, upb}};
      gpu_->matmul_many(h, 1, gu, 2);
      gpu_->silu_mul(gate, upb, sh.inter, gate);
      gpu_->matmul(gate, 1, l.wd, h);
      if (li + 1 < sh.layers)
        gpu_->add_rms_norm(xr, h, 1, sh.hidden, L[li + 1].attn_norm, eps, h);
      else
        gpu_->add(xr, h, sh.hidden);
    }
    const std::vector<float> want = down(xr, sh.hidden);

    // One decode_layers call.
    const std::vector<KvLayerView> fused_cache = caches();
    float* xf = up(x0);
    std::vector<DecoderLayerRef> refs;
    for (int64_t li = 0; li < sh.layers; ++li) {
      LayerData& l = L[li];
      DecoderLayerRef r{&l.wq, &l.wk, &l.wv, &l.wo, &l.wg, &l.wu, &l.wd,
                        l.attn_norm, l.ffn_norm, l.q_norm, l.k_norm, fused_cache[li]};
      refs.push_back(r);
    }
    DecoderStack st;
    st.layers = refs.data(), st.num_layers = sh.layers, st.hidden = sh.hidden;
    st.intermediate = sh.inter, st.num_heads = sh.heads, st.num_kv_heads = sh.kv_heads;
    st.head_dim = sh.head_dim, st.eps = eps, st.scale = scale, st.rope = rope;
    st.x = xf, st.q = q, st.k = k, st.v = v, st.attn = attn, st.gate = gate, st.up = upb;
    st.position = d_pos, st.slot = d_slot, st.block_table = d_table;
    st.max_blocks_per_seq = num_blocks;
    ASSERT_TRUE(gpu_->decode_layers(st)) << "not offered for this shape";
    const std::vector<float> got = down(xf, sh.hidden);
    ASSERT_TRUE(finite(got));
    // Sums in other orders, and the ops' attention on f16 tensor-core operands, move the
    // result a little.
    EXPECT_LT(rel_l2(got, want), 5e-3);

    // The new token's K/V rows: written alike; every other cache row untouched.
    for (int64_t li = 0; li < sh.layers; ++li) {
      for (bool is_k : {true, false}) {
        const void* pr = is_k ? ref_cache[li].k : ref_cache[li].v;
        const void* pf = is_k ? fused_cache[li].k : fused_cache[li].v;
        const std::vector<float> cr = down_kv(pr, cache_elems), cf = down_kv(pf, cache_elems);
        const std::vector<float> row_r(cr.begin() + slot * kv_dim, cr.begin() + (slot + 1) * kv_dim);
        const std::vector<float> row_f(cf.begin() + slot * kv_dim, cf.begin() + (slot + 1) * kv_dim);
        EXPECT_LT(rel_l2(row_f, row_r), 5e-3) << "layer " << li << (is_k ? " K" : " V");
        int64_t moved = 0;
        for (int64_t i = 0; i < cache_elems; ++i)
          if ((i < slot * kv_dim || i >= (slot + 1) * kv_dim) && cf[i] != cr[i]) ++moved;
        EXPECT_EQ(moved, 0) << "layer " << li;
      }
    }
  }
};

TEST_F(CudaDecodeLayers, MatchesTheOpsLlamaShape) {
  const Shape sh{DType::Q4G32, 3, 512, 1536, 8, 2, 128, false};
  uint32_t seed = 1;
  for (int32_t pos : {0, 5, 31, 32, 700}) check(sh, pos, ++seed);
}

TEST_F(CudaDecodeLayers, MatchesTheOpsQwen3ShapeAndEightBitFormats) {
  const Shape qwen{DType::Q8G16, 2, 256, 768, 16, 8, 64, true};
  const Shape wide{DType::Q8G32, 2, 384, 640, 8, 1, 128, false};
  uint32_t seed = 20;
  for (int32_t pos : {3, 300}) check(qwen, pos, ++seed);
  for (int32_t pos : {1, 2000}) check(wide, pos, ++seed);
}

TEST_F(CudaDecodeLayers, RepeatedCallsReuseTheBarrierAndTickets) {
  // Many pieces per head and many layers: the grid barrier and the merge tickets reset
  // themselves; a second call of the same stack (no new upload) must agree too.
  const Shape sh{DType::Q4G32, 6, 256, 512, 4, 4, 64, true};
  check(sh, 1500, 40);
  check(sh, 1500, 40);
}

}  // namespace
}  // namespace sluice
