// A step's small inputs written from page-locked host memory by one kernel (scatter_from_host).
#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kWordsPerBlock = 4 * kThreads;

// Block (i, c) copies words [c * kWordsPerBlock, +kWordsPerBlock) of upload i; the sources are
// page-locked host memory, read through unified addressing.
__global__ void scatter_from_host_kernel(HostScatter list) {
  const int i = blockIdx.x;
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * kWordsPerBlock;
  const int64_t end = min(list.words[i], begin + kWordsPerBlock);
  const uint32_t* src = list.src[i];
  uint32_t* dst = list.dst[i];
  for (int64_t w = begin + threadIdx.x; w < end; w += kThreads) dst[w] = src[w];
}

}  // namespace

void scatter_from_host(const HostScatter& list, cudaStream_t s) {
  if (list.count == 0) return;
  int64_t most = 0;
  for (int i = 0; i < list.count; ++i) most = std::max(most, list.words[i]);
  const dim3 grid(
      static_cast<unsigned>(list.count),
      static_cast<unsigned>(std::max<int64_t>(1, (most + kWordsPerBlock - 1) / kWordsPerBlock)));
  scatter_from_host_kernel<<<grid, kThreads, 0, s>>>(list);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sluice::cuda
