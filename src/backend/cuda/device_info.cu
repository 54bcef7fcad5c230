// Facts of the current device that launch plans depend on, read once per process.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"

namespace sluice::cuda {

int sm_count() {
  static const int n = [] {
    int dev = 0, count = 0;
    SLUICE_CUDA_CHECK(cudaGetDevice(&dev));
    SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev));
    return count;
  }();
  return n;
}

}  // namespace sluice::cuda
