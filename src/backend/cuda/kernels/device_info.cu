// Facts of the current device that launch plans depend on, read once per process.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"

namespace sluice::cuda {

int device_attribute(cudaDeviceAttr attr) {
  int dev = 0, v = 0;
  SLUICE_CUDA_CHECK(cudaGetDevice(&dev));
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&v, attr, dev));
  return v;
}

int sm_count() {
  static const int n = device_attribute(cudaDevAttrMultiProcessorCount);
  return n;
}

bool device_has_clusters() {
  static const bool has = device_attribute(cudaDevAttrComputeCapabilityMajor) >= 9;
  return has;
}

}  // namespace sluice::cuda
