// The weight-streaming products read their weights through shared-memory stages (cp.async) or
// through registers (SLUICE_CUDA_ROWS_STAGES=0): only how the bytes arrive differs, so both
// give the same bits, for every format, batch size and folded mode. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "cuda_fixture.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;

std::unique_ptr<Backend> register_loads_backend() {
  setenv("SLUICE_CUDA_ROWS_STAGES", "0", 1);
  auto be = make_backend("cuda", 0);
  unsetenv("SLUICE_CUDA_ROWS_STAGES");
  return be.ok() ? std::move(be.value()) : nullptr;
}

// `count` floats from `be`'s memory, once its work so far is done.
std::vector<float> from(Backend& be, const float* p, size_t count) {
  std::vector<float> h(count);
  be.to_host(h.data(), p, count * sizeof(float));
  return h;
}

// Rows not a multiple of a block's 4; columns giving each thread more iterations than stages
// (the stage ring wraps) and fewer (a stage left unused).
TEST_F(CudaOps, StagedWeightLoadsGiveTheSameBitsAsRegisterLoads) {
  auto regs = register_loads_backend();
  ASSERT_NE(regs, nullptr);
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::Q4G32, DType::Q8G32, DType::Q8G16}) {
    for (int64_t cols : {512, 1024, 16384, 40960}) {
      if (t == DType::F32 && cols > 16384) continue;
      const int64_t rows = 67;
      const Weight w = random_weight(t, rows, cols, 31);
      const Weight staged_w = gpu_->place(w), regs_w = regs->place(w);
      for (int64_t n : {1, 2, 4, 5, 8}) {
        const auto x = randn(n * cols, 32 + n), g = randn(cols, 33), res = randn(n * rows, 34);
        float* dx = up(x);
        float* y_staged = poisoned(n * rows);
        float* y_regs = poisoned(n * rows);
        gpu_->matmul(dx, n, staged_w, y_staged);
        regs->matmul(dx, n, regs_w, y_regs);
        const std::string where = std::string(dtype_name(t)) + " cols=" + std::to_string(cols) +
                                  " n=" + std::to_string(n);
        EXPECT_EQ(down(y_staged, n * rows), from(*regs, y_regs, n * rows)) << where;
        if (!gpu_->folds_norms(n, staged_w)) continue;
        // The folded norm and the residual add, through both loading paths.
        const Backend::Product ps_staged[] = {{&staged_w, y_staged}};
        const Backend::Product ps_regs[] = {{&regs_w, y_regs}};
        float* dg = up(g);
        gpu_->matmul_many_normed(dx, n, dg, 1e-5f, poisoned(n * cols), ps_staged, 1);
        regs->matmul_many_normed(dx, n, dg, 1e-5f, poisoned(n * cols), ps_regs, 1);
        EXPECT_EQ(down(y_staged, n * rows), from(*regs, y_regs, n * rows)) << where << " normed";
        float* acc_staged = up(res);
        float* acc_regs = up(res);
        gpu_->matmul_add(dx, n, staged_w, nullptr, acc_staged, poisoned(n * rows));
        regs->matmul_add(dx, n, regs_w, nullptr, acc_regs, poisoned(n * rows));
        EXPECT_EQ(down(acc_staged, n * rows), from(*regs, acc_regs, n * rows)) << where << " add";
      }
    }
  }
}

}  // namespace
}  // namespace sluice
