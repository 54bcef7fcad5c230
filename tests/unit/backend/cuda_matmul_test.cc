// The CUDA backend's matmul paths against each other where the op table (op_cases_matmul.cc)
// compares each with the reference: qgemm vs dequantize + cuBLAS and wgmma vs mma.sync, shared
// launches vs separate ones, batch-invariant rows, where norms are folded. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "backend/backend.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;
using testing::rel_l2;

// y = x . w^T on another backend (its own copies of w and x).
std::vector<float> product_on(Backend& be, const Weight& w, const std::vector<float>& x,
                              int64_t n) {
  testing::BackendBuffers b(be);
  float* y = b.poisoned(n * w.rows);
  be.matmul(b.up(x), n, be.place(w), y);
  return b.down(y, n * w.rows);
}

// Batched products of quantized weights run on tensor cores with the weight dequantized in
// registers (qgemm): vs dequantize + cuBLAS (the path above SLUICE_CUDA_QGEMM_MAX_ROWS), over
// partial token and row tiles and split K (vs the reference: the op table's same shapes).
// Also the same products through mma.sync (SLUICE_CUDA_QGEMM_WGMMA=0) where the default is
// warpgroup MMAs (sm_90a, 64-token tiles): the two paths agree to rounding.
TEST_F(CudaOps, QuantizedGemmMatchesTheDequantizedPath) {
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
  for (DType t : {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4, DType::Q6G16}) {
    for (const Shape& s : shapes) {
      const Weight w = random_weight(t, s.rows, s.cols, 90 + s.n);
      const auto x = randn(s.n * s.cols, 91 + s.rows);
      float* y = poisoned(s.n * s.rows);
      gpu_->matmul(up(x), s.n, gpu_->place(w), y);
      const auto got = down(y, s.n * s.rows);
      ASSERT_TRUE(finite(got)) << dtype_name(t) << " n=" << s.n;
      EXPECT_LT(rel_l2(got, product_on(cublas, w, x, s.n)), 1e-3) << dtype_name(t) << " n=" << s.n;
      EXPECT_LT(rel_l2(got, product_on(mma, w, x, s.n)), 1e-5)
          << dtype_name(t) << " n=" << s.n << " (mma.sync)";
    }
  }
}

// Q6G16 holds Q8G16's values in fewer bytes: every product path (weight-streaming, the fused
// GEMM with and without wgmma, cuBLAS over the dequantized weight) gives the same bits for both.
TEST_F(CudaOps, SixBitCodesGiveTheWideCodesBits) {
  for (int64_t n : {1, 3, 9, 64, 300}) {
    const Weight six = random_weight(DType::Q6G16, 200, 1024, 7 + n);
    const Weight wide = q6g16_to_q8g16(six);
    const auto x = randn(n * 1024, 8 + n);
    float* a = poisoned(n * 200);
    float* b = poisoned(n * 200);
    gpu_->matmul(up(x), n, gpu_->place(six), a);
    gpu_->matmul(up(x), n, gpu_->place(wide), b);
    EXPECT_EQ(down(a, n * 200), down(b, n * 200)) << "n=" << n;
  }
}

// Products sharing their input run as one launch; each output is the same bits as its own
// matmul (mixed dtypes fall back to one matmul each, but at one row Q4G32 products beside
// Q6G16 or Q8G16 ones share a launch: q and k beside v).
TEST_F(CudaOps, MatmulManyEqualsSeparateMatmuls) {
  for (int64_t cols : {512, 2048})
    for (int64_t n : {1, 5, 8, 40}) {
      for (auto dts : {std::vector<DType>{DType::Q4G32, DType::Q4G32, DType::Q4G32},
                       std::vector<DType>{DType::BF16, DType::BF16},
                       std::vector<DType>{DType::Q4G32, DType::Q8G16, DType::Q4G32},
                       std::vector<DType>{DType::Q4G32, DType::Q4G32, DType::Q6G16},
                       std::vector<DType>{DType::Q4G32, DType::Q8G16}}) {
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
          // The weight-streaming products (quantized: n <= 4) sum each output in a fixed order;
          // the batched quantized GEMM plans its K splits for the whole launch, so its sums may be
          // ordered otherwise than for the product alone.
          const auto many = down(ps[i].y, n * rows[i]), alone = down(one, n * rows[i]);
          if (n <= 4 || !is_quantized(dts[i]))
            EXPECT_EQ(many, alone)
                << "n=" << n << " cols=" << cols << " product " << i << " " << dtype_name(dts[i]);
          else
            EXPECT_LT(rel_l2(many, alone), 1e-6) << "n=" << n << " product " << i;
        }
      }
    }
}

TEST_F(CudaOps, BatchInvariantMatmulGivesEachRowTheSameBits) {
  ASSERT_TRUE(gpu_->set_batch_invariant(true));
  for (DType t : {DType::BF16, DType::Q4G32, DType::Q8G16, DType::MXFP4, DType::Q6G16}) {
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

// Norms and residual adds fold into the weight-streaming products (quantized weights up to 4
// rows, float ones up to 8) of every format the op table's folded_norms cases run; larger
// batches take the GEMMs and separate norms.
TEST_F(CudaOps, FoldsNormsWhereRowsStream) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G16, DType::MXFP4,
                  DType::Q6G16})
    for (int64_t n : {1, 2, 3, 4, 5, 8}) {
      const bool streams = n <= (is_quantized(t) ? 4 : 8);
      EXPECT_EQ(gpu_->folds_norms(n, random_weight(t, 260, 1024, 21)), streams)
          << dtype_name(t) << " n=" << n;
    }
  EXPECT_FALSE(gpu_->folds_norms(9, random_weight(DType::BF16, 64, 256, 27)))
      << "larger batches take the GEMMs and separate norms";
}

}  // namespace
}  // namespace sluice
