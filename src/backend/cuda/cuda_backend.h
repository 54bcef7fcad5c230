#pragma once
// The CUDA backend (built with -DSLUICE_CUDA=ON): weights, activations and the KV cache in GPU
// memory; cuBLAS for large matrix products, own kernels for the rest (kernels/kernels.h).
#include <memory>

#include "backend/backend.h"

namespace sluice::cuda {

int device_count();  // 0 when no driver or GPU is present
std::unique_ptr<Backend> make_cuda_backend(int device);
OptionalDTypes optional_dtypes();  // what a load for a CUDA backend picks (its tuning switches)

}  // namespace sluice::cuda
