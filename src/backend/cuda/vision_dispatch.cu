// The vision ops of the CUDA backend: each goes straight to its launcher (kernels_vision.cu).
#include "backend/cuda/cuda_backend_class.h"
#include "common/assert.h"

namespace sluice::cuda {

void CudaBackend::gelu_tanh(const float* x, int64_t count, float* out) {
  auto t = timer_->scope("gelu_tanh", 1);
  cuda::gelu_tanh(x, count, out, stream_);
}

void CudaBackend::avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim,
                              int64_t kernel, float* out) {
  SLUICE_ASSERT(kernel > 0 && height % kernel == 0 && width % kernel == 0,
                "avg_pool_2d: the grid must be a multiple of the kernel");
  auto t = timer_->scope("avg_pool_2d", height * width);
  cuda::avg_pool_2d(x, height, width, dim, kernel, out, stream_);
}

}  // namespace sluice::cuda
