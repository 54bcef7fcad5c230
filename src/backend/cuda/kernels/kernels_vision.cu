// Vision kernels (element-wise, not tuned): GELU with the tanh approximation and 2-D average
// pooling over a grid of rows.
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;

// gelu_tanh(g) = g / (1 + exp(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3).
__global__ void gelu_tanh_kernel(const float* x, int64_t count, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const float g = x[i];
  const float m2u = -1.5957691216057308f * (g + 0.044715f * g * g * g);
  out[i] = g / (1.0f + expf(fminf(m2u, 88.0f)));
}

// One block per pooled row; threads over the columns, each summing its kernel^2 inputs.
__global__ void avg_pool_2d_kernel(const float* x, int64_t width, int64_t dim, int64_t kernel,
                                   float* out) {
  const int64_t r = blockIdx.x, out_w = width / kernel;
  const int64_t oy = r / out_w, ox = r % out_w;
  const float* first = x + (oy * kernel * width + ox * kernel) * dim;
  const float inv = 1.0f / static_cast<float>(kernel * kernel);
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    float acc = 0.0f;
    for (int64_t dy = 0; dy < kernel; ++dy)
      for (int64_t dx = 0; dx < kernel; ++dx) acc += first[(dy * width + dx) * dim + c];
    out[r * dim + c] = acc * inv;
  }
}

}  // namespace

void gelu_tanh(const float* x, int64_t count, float* out, cudaStream_t s) {
  if (count <= 0) return;
  const unsigned blocks = static_cast<unsigned>((count + kThreads - 1) / kThreads);
  gelu_tanh_kernel<<<blocks, kThreads, 0, s>>>(x, count, out);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                 float* out, cudaStream_t s) {
  const int64_t rows = (height / kernel) * (width / kernel);
  if (rows <= 0 || dim <= 0) return;
  avg_pool_2d_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, width, dim, kernel, out);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sluice::cuda
