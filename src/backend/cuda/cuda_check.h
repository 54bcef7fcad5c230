#pragma once
// Every CUDA / cuBLAS call is checked; a failure aborts with the call and its error string
// (a device fault leaves the context unusable, so there is nothing to recover).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define SLUICE_CUDA_CHECK(call)                                                          \
  do {                                                                                   \
    const cudaError_t sluice_err_ = (call);                                              \
    if (sluice_err_ != cudaSuccess) {                                                    \
      std::fprintf(stderr, "[cuda] %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__, \
                   cudaGetErrorString(sluice_err_));                                     \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#define SLUICE_CUBLAS_CHECK(call)                                                          \
  do {                                                                                     \
    const cublasStatus_t sluice_st_ = (call);                                              \
    if (sluice_st_ != CUBLAS_STATUS_SUCCESS) {                                             \
      std::fprintf(stderr, "[cublas] %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__, \
                   cublasGetStatusString(sluice_st_));                                     \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

// After a kernel launch: launch-configuration errors surface here.
#define SLUICE_CUDA_LAUNCHED() SLUICE_CUDA_CHECK(cudaGetLastError())
