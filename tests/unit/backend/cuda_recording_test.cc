// Recorded ops (CUDA graphs): a replay computes what running the ops computes, on the inputs
// present at replay time. Skips without a CUDA build or GPU.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::randn;
using testing::random_weight;

TEST(CudaRecording, ReplayRunsTheRecordedOpsOnCurrentInputs) {
  if (!cuda_available())
    GTEST_SKIP() << "no CUDA GPU here (needs a -DSLUICE_CUDA=ON build on a GPU machine)";
  auto made = make_backend("cuda", 0);
  ASSERT_TRUE(made.ok()) << made.error();
  Backend& be = *made.value();
  if (!be.can_record()) GTEST_SKIP() << "recording is off (SLUICE_CUDA_GRAPHS=0 or profiling)";

  const int64_t n = 3, cols = 256, rows = 96;
  const Weight w_host = random_weight(DType::Q4G32, rows, cols, 7);
  const Weight w = be.place(w_host);
  const std::vector<float> norm = randn(cols, 8);
  float* x = static_cast<float*>(be.alloc(n * cols * sizeof(float)));
  float* h = static_cast<float*>(be.alloc(n * cols * sizeof(float)));
  float* g = static_cast<float*>(be.alloc(cols * sizeof(float)));
  float* y = static_cast<float*>(be.alloc(n * rows * sizeof(float)));
  be.to_device(g, norm.data(), cols * sizeof(float));
  // y = matmul(rms_norm(x)) + y
  float* scratch = static_cast<float*>(be.alloc(n * rows * sizeof(float)));
  auto ops = [&] {
    be.rms_norm(x, n, cols, g, 1e-5f, h);
    be.matmul(h, n, w, scratch);
    be.add(y, scratch, n * rows);
  };
  auto run = [&](const std::vector<float>& xin, bool replay, Recording* rec) {
    std::vector<float> zero(n * rows, 0.5f), out(n * rows);
    be.to_device(x, xin.data(), xin.size() * sizeof(float));
    be.to_device(y, zero.data(), zero.size() * sizeof(float));
    if (replay)
      rec->replay();
    else
      ops();
    be.to_host(out.data(), y, out.size() * sizeof(float));
    return out;
  };

  ops();  // once first: its scratch buffers grow now, not while recording
  be.begin_recording();
  ops();  // recorded, not run
  std::unique_ptr<Recording> rec = be.end_recording();
  ASSERT_NE(rec, nullptr);
  for (uint64_t seed : {11, 12}) {
    const std::vector<float> xin = randn(n * cols, seed);
    const std::vector<float> eager = run(xin, false, nullptr);
    const std::vector<float> replayed = run(xin, true, rec.get());
    EXPECT_EQ(eager, replayed) << "seed " << seed;  // same kernels, same bits
  }
  rec.reset();
  for (void* p : {static_cast<void*>(x), static_cast<void*>(h), static_cast<void*>(g),
                  static_cast<void*>(y), static_cast<void*>(scratch)})
    be.release(p);
}

}  // namespace
}  // namespace sluice
