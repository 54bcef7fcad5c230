// Every CUDA op vs the reference backend on fresh random data (relative L2 error per dtype), the
// batch-invariant matmul path bit for bit across batch sizes, and paged attention over shuffled
// block tables with mixed prefill chunks and decodes. Skips without a CUDA build or GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>

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

// Tolerances: f32 math on the weight-streaming kernel (quantized weights: int16 activations,
// see the act16 test); 16-bit operands on the tensor-core path.
double tolerance(DType t, int64_t n) {
  if (n <= 8) return is_quantized(t) ? 1e-4 : 1e-5;
  return t == DType::F32 ? 1e-5 : t == DType::BF16 ? 1e-2 : 2e-3;
}

TEST_F(CudaOps, MatmulEveryDtypeMatchesReference) {
  struct Shape {
    int64_t n, rows, cols;
  };
  const Shape shapes[] = {{1, 67, 256}, {2, 16, 64},   {3, 37, 96},  {5, 130, 512},
                          {8, 33, 1024}, {9, 64, 256}, {33, 96, 192}, {70, 260, 128}};
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32,
                  DType::Q8G16}) {
    for (const Shape& s : shapes) {
      const Weight w = random_weight(t, s.rows, s.cols, 7 + s.rows);
      const Weight dw = gpu_->place(w);
      const auto x = randn(s.n * s.cols, 11 + s.n);
      float* y = poisoned(s.n * s.rows);
      gpu_->matmul(up(x), s.n, dw, y);
      std::vector<float> want(s.n * s.rows);
      ref::matmul(x.data(), s.n, w, want.data());
      const auto got = down(y, want.size());
      ASSERT_TRUE(finite(got)) << dtype_name(t) << " n=" << s.n;
      EXPECT_LT(rel_l2(got, want), tolerance(t, s.n))
          << dtype_name(t) << " n=" << s.n << " rows=" << s.rows << " cols=" << s.cols;
    }
  }
}

// Quantized weights on the weight-streaming kernel take int16 activations, as the CPU backend:
// against the int16 reference on the same quantized activations only the f32 summation order
// differs (< 1e-5); the float reference is further away (< 1e-4, matmul_test.cc says why).
// Over units split unevenly between warps (448 per row), partial row blocks and many blocks.
TEST_F(CudaOps, QuantizedRowsMatchTheInt16Reference) {
  struct Shape {
    int64_t rows, cols;
  };
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
    for (const Shape& s : {Shape{70, 4096}, Shape{37, 14336}, Shape{9001, 256}}) {
      for (int64_t n : {1, 3, 8}) {
        const Weight w = random_weight(t, s.rows, s.cols, 21 + n);
        const auto x = randn(n * s.cols, 31 + n);
        float* y = poisoned(n * s.rows);
        gpu_->matmul(up(x), n, gpu_->place(w), y);
        std::vector<BlockAct16> xq(n * s.cols / 32);
        for (int64_t i = 0; i < n; ++i)
          ref::quantize_act_row(x.data() + i * s.cols, s.cols, &xq[i * s.cols / 32]);
        std::vector<float> want(n * s.rows);
        ref::matmul_act16(xq.data(), n, w, want.data());
        EXPECT_LT(rel_l2(down(y, want.size()), want), 1e-5)
            << dtype_name(t) << " n=" << n << " " << s.rows << "x" << s.cols;
      }
    }
  }
}

// y = x . w^T on another backend (its own copies of w and x).
std::vector<float> product_on(Backend& be, const Weight& w, const std::vector<float>& x,
                              int64_t n) {
  const Weight placed = be.place(w);
  void* dx = be.alloc(x.size() * sizeof(float));
  void* dy = be.alloc(n * w.rows * sizeof(float));
  be.to_device(dx, x.data(), x.size() * sizeof(float));
  be.matmul(static_cast<const float*>(dx), n, placed, static_cast<float*>(dy));
  std::vector<float> y(n * w.rows);
  be.to_host(y.data(), dy, y.size() * sizeof(float));
  be.release(dx);
  be.release(dy);
  return y;
}

// Batched products of quantized weights run on tensor cores with the weight dequantized in
// registers (qgemm): vs the float reference, and vs dequantize + cuBLAS (the path above
// SLUICE_CUDA_QGEMM_MAX_ROWS), over partial token and row tiles and split K.
// Also the same products through mma.sync (SLUICE_CUDA_QGEMM_WGMMA=0) where the default is
// warpgroup MMAs (sm_90a, 64-token tiles): the two paths agree to rounding.
TEST_F(CudaOps, QuantizedGemmMatchesReferenceAndTheDequantizedPath) {
  setenv("SLUICE_CUDA_QGEMM_MAX_ROWS", "0", 1);
  auto other = make_backend("cuda", 0);
  unsetenv("SLUICE_CUDA_QGEMM_MAX_ROWS");
  ASSERT_TRUE(other.ok()) << other.error();
  Backend& cublas = *other.value();
  setenv("SLUICE_CUDA_QGEMM_WGMMA", "0", 1);
  auto without_wgmma = make_backend("cuda", 0);
  unsetenv("SLUICE_CUDA_QGEMM_WGMMA");
  ASSERT_TRUE(without_wgmma.ok()) << without_wgmma.error();
  Backend& mma = *without_wgmma.value();
  struct Shape {
    int64_t n, rows, cols;
  };
  const Shape shapes[] = {{9, 128, 64},    {16, 200, 4096}, {31, 1000, 1024},
                          {64, 384, 2048}, {100, 136, 576}, {513, 256, 512}};
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
    for (const Shape& s : shapes) {
      const Weight w = random_weight(t, s.rows, s.cols, 90 + s.n);
      const auto x = randn(s.n * s.cols, 91 + s.rows);
      float* y = poisoned(s.n * s.rows);
      gpu_->matmul(up(x), s.n, gpu_->place(w), y);
      const auto got = down(y, s.n * s.rows);
      std::vector<float> want(s.n * s.rows);
      ref::matmul(x.data(), s.n, w, want.data());
      ASSERT_TRUE(finite(got)) << dtype_name(t) << " n=" << s.n;
      EXPECT_LT(rel_l2(got, want), 2e-3)
          << dtype_name(t) << " n=" << s.n << " rows=" << s.rows << " cols=" << s.cols;

      EXPECT_LT(rel_l2(got, product_on(cublas, w, x, s.n)), 1e-3)
          << dtype_name(t) << " n=" << s.n;
      EXPECT_LT(rel_l2(got, product_on(mma, w, x, s.n)), 1e-5)
          << dtype_name(t) << " n=" << s.n << " (mma.sync)";
    }
  }
}

// Products sharing their input run as one launch; each output is the same bits as its own
// matmul (mixed dtypes fall back to one matmul each).
TEST_F(CudaOps, MatmulManyEqualsSeparateMatmuls) {
  const int64_t cols = 512;
  for (int64_t n : {1, 5, 8, 40}) {
    for (auto dts : {std::vector<DType>{DType::Q4G32, DType::Q4G32, DType::Q4G32},
                     std::vector<DType>{DType::BF16, DType::BF16},
                     std::vector<DType>{DType::Q4G32, DType::Q8G16, DType::Q4G32}}) {
      const auto x = randn(n * cols, 50 + n);
      const float* dx = up(x);
      std::vector<Weight> ws;
      std::vector<Backend::Product> ps;
      const int64_t rows[] = {96, 24, 37};
      for (size_t i = 0; i < dts.size(); ++i) {
        ws.push_back(gpu_->place(random_weight(dts[i], rows[i], cols, 60 + i)));
      }
      for (size_t i = 0; i < dts.size(); ++i) ps.push_back({&ws[i], poisoned(n * rows[i])});
      gpu_->matmul_many(dx, n, ps.data(), static_cast<int>(ps.size()));
      for (size_t i = 0; i < ps.size(); ++i) {
        float* one = poisoned(n * rows[i]);
        gpu_->matmul(dx, n, ws[i], one);
        // The weight-streaming products (n <= 8) sum each output in a fixed order; the batched
        // quantized GEMM plans its K splits for the whole launch, so its sums may be ordered
        // otherwise than for the product alone.
        const auto many = down(ps[i].y, n * rows[i]), alone = down(one, n * rows[i]);
        if (n <= 8 || !is_quantized(dts[i]))
          EXPECT_EQ(many, alone) << "n=" << n << " product " << i << " " << dtype_name(dts[i]);
        else
          EXPECT_LT(rel_l2(many, alone), 1e-6) << "n=" << n << " product " << i;
      }
    }
  }
}

TEST_F(CudaOps, MatmulOddColumnCountsUseTheGenericKernel) {
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    const Weight w = random_weight(t, 19, 20, 3);
    const auto x = randn(3 * 20, 4);
    float* y = poisoned(3 * 19);
    gpu_->matmul(up(x), 3, gpu_->place(w), y);
    std::vector<float> want(3 * 19);
    ref::matmul(x.data(), 3, w, want.data());
    EXPECT_LT(rel_l2(down(y, want.size()), want), 1e-5) << dtype_name(t);
  }
}

TEST_F(CudaOps, BatchInvariantMatmulGivesEachRowTheSameBits) {
  ASSERT_TRUE(gpu_->set_batch_invariant(true));
  for (DType t : {DType::BF16, DType::Q4G32, DType::Q8G16}) {
    const Weight w = gpu_->place(random_weight(t, 96, 512, 5));
    const int64_t n = 37;
    const auto x = randn(n * 512, 6);
    float* all = poisoned(n * 96);
    gpu_->matmul(up(x), n, w, all);
    const auto batched = down(all, n * 96);
    for (int64_t i : {0, 8, 36}) {
      std::vector<float> xi(x.begin() + i * 512, x.begin() + (i + 1) * 512);
      float* one = poisoned(96);
      gpu_->matmul(up(xi), 1, w, one);
      const auto single = down(one, 96);
      for (int64_t r = 0; r < 96; ++r)
        ASSERT_EQ(single[r], batched[i * 96 + r]) << dtype_name(t) << " row " << i << " col " << r;
    }
  }
  gpu_->set_batch_invariant(false);
}

// Greedy picks on the device equal the host scan (Backend::argmax_rows' default): ties between
// threads and warps of a vocabulary-wide row, NaN, rows of only -inf and NaN, +inf.
TEST_F(CudaOps, ArgmaxRowsEqualsTheHostScan) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto host = make_cpu_backend(1);
  for (int64_t cols : {4, 1000, 151669}) {
    const int64_t rows = 7;
    auto x = randn(rows * cols, 70 + cols);
    float* r = x.data();
    r[0 * cols + cols - 1] = 50.0f, r[0 * cols + cols / 2] = 50.0f;  // a tie: the lower wins
    r[1 * cols + 0] = nan, r[1 * cols + cols - 1] = 60.0f;
    for (int64_t j = 0; j < cols; ++j) r[2 * cols + j] = j % 3 ? -inf : nan;  // no winner: 0
    r[3 * cols + cols - 1] = inf, r[3 * cols + cols / 3] = inf;
    for (int64_t j = 0; j < cols; ++j) r[4 * cols + j] = 1.0f;  // all equal: 0
    std::vector<int32_t> want(rows);
    host->argmax_rows(x.data(), rows, cols, want.data());
    int32_t* d = static_cast<int32_t*>(gpu_->alloc(rows * sizeof(int32_t)));
    gpu_->argmax_rows(up(x), rows, cols, d);
    std::vector<int32_t> got(rows);
    gpu_->to_host(got.data(), d, rows * sizeof(int32_t));
    gpu_->release(d);
    EXPECT_EQ(got, want) << "cols=" << cols;
    if (cols > 4) {
      EXPECT_EQ(want[0], cols / 2);
      EXPECT_EQ(want[2], 0);
      EXPECT_EQ(want[3], cols / 3);
    }
  }
}

TEST_F(CudaOps, EmbeddingEveryDtype) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32,
                  DType::Q8G16}) {
    const Weight w = random_weight(t, 50, 96, 9);
    const std::vector<int32_t> ids = {3, 0, 49, 3, 17};
    float* out = poisoned(ids.size() * 96);
    gpu_->embedding(gpu_->place(w), up(ids), 5, out);
    std::vector<float> want(ids.size() * 96);
    ref::embedding(w, ids.data(), 5, want.data());
    EXPECT_EQ(rel_l2(down(out, want.size()), want), 0.0) << dtype_name(t);
  }
}

TEST_F(CudaOps, NormsRopeAndElementwise) {
  const int64_t n = 7, dim = 320, heads = 5, hd = 64;
  const auto x = randn(n * dim, 1), wgt = randn(dim, 2), y = randn(n * dim, 3);
  {
    float* out = poisoned(n * dim);
    gpu_->rms_norm(up(x), n, dim, up(wgt), 1e-6f, out);
    std::vector<float> want(n * dim);
    ref::rms_norm(x.data(), n, dim, wgt.data(), 1e-6f, want.data());
    EXPECT_LT(rel_l2(down(out, want.size()), want), 1e-6);
  }
  for (bool interleaved : {false, true}) {
    for (int64_t rotary : {hd, hd / 2}) {
      std::vector<int32_t> pos = {0, 1, 5, 100, 7, 4095, 2};
      std::vector<float> inv(rotary / 2);
      RopeParams p{rotary, 10000.0f, interleaved, nullptr};
      ref::default_inv_freq(p, inv.data());
      float* dx = up(x);
      RopeParams dp = p;
      dp.inv_freq = up(inv);
      gpu_->rope(dx, n, heads, hd, up(pos), dp);
      std::vector<float> want = x;
      p.inv_freq = inv.data();
      ref::rope(want.data(), n, heads, hd, pos.data(), p);
      EXPECT_LT(rel_l2(down(dx, want.size()), want), 1e-6)
          << "interleaved=" << interleaved << " rotary=" << rotary;
    }
  }
  {
    float* out = poisoned(n * dim);
    gpu_->silu_mul(up(x), up(y), n * dim, out);
    std::vector<float> want(n * dim);
    ref::silu_mul(x.data(), y.data(), n * dim, want.data());
    EXPECT_LT(rel_l2(down(out, want.size()), want), 1e-6);
  }
  {
    float* dx = up(x);
    gpu_->add(dx, up(y), n * dim);
    gpu_->add_bias(dx, n, dim, up(wgt));
    std::vector<float> want = x;
    ref::add(want.data(), y.data(), n * dim);
    ref::add_bias(want.data(), n, dim, wgt.data());
    EXPECT_EQ(rel_l2(down(dx, want.size()), want), 0.0);
  }
  {
    const std::vector<int32_t> rows = {6, 0, 3};
    float* out = poisoned(3 * dim);
    gpu_->gather_rows(up(x), up(rows), 3, dim, out);
    std::vector<float> want(3 * dim);
    ref::gather_rows(x.data(), rows.data(), 3, dim, want.data());
    EXPECT_EQ(rel_l2(down(out, want.size()), want), 0.0);
  }
}

// Mixed prefill chunks and decodes over a shuffled block table; the cache written by the GPU's
// cache_write, then read by its attention.
TEST_F(CudaOps, PagedAttentionMatchesReference) {
  struct Case {
    int64_t heads, kv_heads, hd, block_size;
  };
  struct Seq {
    int32_t first_pos, num_tokens;
  };
  // Long contexts take the split-K path (partials + combine) unless batch-invariant; short ones
  // (<= 128) never split.
  const std::vector<Seq> long_seqs = {{40, 1},  {13, 20}, {0, 1},   {0, 7},
                                      {300, 1}, {31, 2},  {0, 150}, {1500, 1}};
  const std::vector<Seq> short_seqs = {{5, 1}, {0, 30}, {60, 3}};
  const std::vector<Seq> decode_seqs = {{300, 1}, {1500, 1}, {40, 1}, {0, 1}, {700, 2}};
  // Prefill chunks (>= 8 tokens) take the tensor-core tiles outside batch-invariant mode:
  // partial tiles, chunks after a cached prefix, several key chunks, beside per-token decodes.
  const std::vector<Seq> prefill_seqs = {{0, 200}, {100, 70}, {0, 9}, {500, 1}, {37, 64}, {3, 2},
                                         {1000, 130}};
  // 140 decodes fill the GPU with tiles of one token (with every head layout tiled here).
  std::vector<Seq> many_decodes;
  for (int i = 0; i < 140; ++i) many_decodes.push_back({(i * 37) % 300, 1});
  // Decode-only batches take the tiles with each context split into pieces: pieces past a short
  // context are empty, contexts end on and beside chunk boundaries.
  const std::vector<Seq> few_decodes = {{300, 1}, {1500, 1}, {40, 1}, {0, 1}, {63, 1}, {64, 1}};
  const std::vector<Seq> one_decode = {{2000, 1}};
  for (const auto& seqs : {long_seqs, short_seqs, decode_seqs, prefill_seqs, many_decodes,
                           few_decodes, one_decode})
  // head_dim 80 and 36 leave lanes without a dim; 36 is not a multiple of 8 (scalar K loads).
  for (const Case& c : {Case{8, 2, 64, 16}, Case{4, 4, 128, 32}, Case{6, 1, 96, 5},
                        Case{2, 2, 256, 16}, Case{16, 2, 128, 16}, Case{4, 2, 80, 16},
                        Case{2, 1, 36, 16}}) {
    int64_t needed = 0;
    for (const Seq& s : seqs) needed += (s.first_pos + s.num_tokens + c.block_size - 1) / c.block_size;
    const int64_t num_blocks = needed + 5, kv_row = c.kv_heads * c.hd;
    std::vector<int32_t> perm(num_blocks);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(7));
    int64_t max_blocks = 0;
    for (const Seq& s : seqs)
      max_blocks = std::max<int64_t>(max_blocks, (s.first_pos + s.num_tokens + c.block_size - 1) / c.block_size);
    std::vector<int32_t> tables(seqs.size() * max_blocks, 0), query_start = {0}, positions, slots;
    size_t next = 0;
    int64_t context_tokens = 0;
    for (size_t s = 0; s < seqs.size(); ++s) {
      const int32_t len = seqs[s].first_pos + seqs[s].num_tokens;
      for (int64_t b = 0; b < (len + c.block_size - 1) / c.block_size; ++b)
        tables[s * max_blocks + b] = perm[next++];
      for (int32_t p = 0; p < len; ++p) ++context_tokens;
      for (int32_t p = seqs[s].first_pos; p < len; ++p) {
        positions.push_back(p);
        slots.push_back(tables[s * max_blocks + p / c.block_size] * static_cast<int32_t>(c.block_size) +
                        p % static_cast<int32_t>(c.block_size));
      }
      query_start.push_back(static_cast<int32_t>(positions.size()));
    }
    // Earlier positions of each sequence: written through cache_write too (all slots).
    std::vector<int32_t> all_slots;
    for (size_t s = 0; s < seqs.size(); ++s)
      for (int32_t p = 0; p < seqs[s].first_pos; ++p)
        all_slots.push_back(tables[s * max_blocks + p / c.block_size] * static_cast<int32_t>(c.block_size) +
                            p % static_cast<int32_t>(c.block_size));
    const int64_t n = static_cast<int64_t>(positions.size()), m = static_cast<int64_t>(all_slots.size());
    const auto q = randn(n * c.heads * c.hd, 3);
    auto k = randn(n * kv_row, 4), v = randn(n * kv_row, 5);
    auto k0 = randn(m * kv_row, 6), v0 = randn(m * kv_row, 7);
    // An f16 cache stores what the reference's f32 cache holds once K/V are rounded to f16: the
    // comparison then measures the kernels' arithmetic only.
    if (gpu_->kv_dtype() == KvDtype::F16)
      for (auto* x : {&k, &v, &k0, &v0})
        for (float& f : *x) f = f16_to_f32(f32_to_f16(f));

    const size_t cache_elems = num_blocks * c.block_size * kv_row;
    std::vector<float> kc(cache_elems, NAN), vc(cache_elems, NAN);
    KvLayerView host{kc.data(), vc.data(), num_blocks, c.block_size, c.kv_heads, c.hd};
    KvLayerView dev{poisoned_kv(cache_elems), poisoned_kv(cache_elems), num_blocks, c.block_size,
                    c.kv_heads, c.hd, gpu_->kv_dtype()};
    ref::cache_write(k0.data(), v0.data(), m, all_slots.data(), host);
    ref::cache_write(k.data(), v.data(), n, slots.data(), host);
    gpu_->cache_write(up(k0), up(v0), m, up(all_slots), dev);
    gpu_->cache_write(up(k), up(v), n, up(slots), dev);

    const int64_t max_context = *std::max_element(positions.begin(), positions.end()) + 1;
    AttentionBatch hb{static_cast<int64_t>(seqs.size()), n, max_context, query_start.data(),
                      positions.data(), tables.data(), max_blocks, slots.data()};
    hb.host_query_start = query_start.data();
    hb.host_positions = positions.data();
    AttentionBatch db = hb;
    db.query_start = up(query_start);
    db.positions = up(positions);
    db.block_tables = up(tables);
    db.slot_mapping = up(slots);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    std::vector<float> want(q.size());
    ref::paged_attention(q.data(), c.heads, host, hb, scale, want.data());
    const bool decodes_only = std::all_of(seqs.begin(), seqs.end(),
                                          [](const Seq& s) { return s.num_tokens == 1; });
    bool tiled = c.hd == 64 || c.hd == 128;  // f16 tensor-core operands: ~5e-4 of error
    tiled = tiled && (decodes_only || std::any_of(seqs.begin(), seqs.end(), [](const Seq& s) {
                        return s.num_tokens >= 8;
                      }));
    for (bool invariant : {false, true}) {  // batch-invariant mode: fixed splits, no tiles
      gpu_->set_batch_invariant(invariant);
      float* out = poisoned(q.size());
      gpu_->paged_attention(up(q), c.heads, dev, db, scale, out);
      const auto got = down(out, q.size());
      ASSERT_TRUE(finite(got)) << "heads=" << c.heads << " hd=" << c.hd << " context=" << max_context;
      const bool f16 = tiled && !invariant;
      EXPECT_LT(rel_l2(got, want), f16 ? 2e-3 : 1e-5)
          << "heads=" << c.heads << "/" << c.kv_heads << " hd=" << c.hd
          << " bs=" << c.block_size << " context=" << max_context << " invariant=" << invariant;
      if (f16) {
        EXPECT_GT(rel_l2(got, want), 1e-6) << "the tiled kernel did not run";
      }
      if (decodes_only && !invariant) {
        // Again (the pieces' tickets were reset), and as a recorded step plans it: sized for the
        // table's capacity, no host copies; the kernels follow the positions on the device.
        gpu_->paged_attention(up(q), c.heads, dev, db, scale, out);
        EXPECT_EQ(down(out, q.size()), got) << "hd=" << c.hd << " context=" << max_context;
        AttentionBatch rb = db;
        rb.max_context = max_blocks * c.block_size;
        rb.host_query_start = rb.host_positions = nullptr;
        float* rout = poisoned(q.size());
        gpu_->paged_attention(up(q), c.heads, dev, rb, scale, rout);
        EXPECT_LT(rel_l2(down(rout, q.size()), want), tiled ? 2e-3 : 1e-5)
            << "capacity-sized: heads=" << c.heads << " hd=" << c.hd << " context=" << max_context;
      }
    }
    gpu_->set_batch_invariant(false);
    // The cache holds exactly what was written (untouched slots stay poisoned).
    const auto kg = down_kv(dev.k, cache_elems), vg = down_kv(dev.v, cache_elems);
    for (size_t i = 0; i < cache_elems; ++i) {
      ASSERT_TRUE((std::isnan(kc[i]) && std::isnan(kg[i])) || kc[i] == kg[i]) << i;
      ASSERT_TRUE((std::isnan(vc[i]) && std::isnan(vg[i])) || vc[i] == vg[i]) << i;
    }
  }
}

}  // namespace
}  // namespace sluice
