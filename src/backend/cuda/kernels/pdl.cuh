#pragma once
// Programmatic dependent launch (Hopper): a kernel launched with launch_pdl may start while the
// kernel before it in the stream still runs (the products stream their weights meanwhile; the
// rest is only resident early, hiding its launch); it calls pdl_wait() before reading anything
// an earlier kernel wrote, and writes nothing before that. The kernels of a forward step (all
// but the embedding lookup after the host's uploads and the unfused cache write) launch this
// way and call pdl_launch_dependents() once their successor may be scheduled.
// Both instructions are no-ops without such a launch (and before sm_90).
#include <cuda_runtime.h>

#include <utility>

#include "backend/cuda/cuda_check.h"
#include "common/env.h"

namespace sluice::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// SLUICE_CUDA_PDL=0 launches every kernel after the previous one ends (an A/B switch), read
// once per process: every launcher consults it, too many to take it from the backend's tuning.
inline bool pdl_enabled() {
  static const bool on = env::enabled(env::Switch::kCudaPdl);
  return on;
}

// cluster_z > 1: blocks (x, y, z .. z + cluster_z - 1) form a thread-block cluster (sm_90).
template <typename... Params, typename... Args>
void launch_pdl_cluster(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
                        unsigned cluster_z, cudaStream_t s, Args&&... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = s;
  cudaLaunchAttribute attr[2];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = pdl_enabled() ? 1 : 0;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  if (cluster_z > 1) {
    attr[1].id = cudaLaunchAttributeClusterDimension;
    attr[1].val.clusterDim.x = 1;
    attr[1].val.clusterDim.y = 1;
    attr[1].val.clusterDim.z = cluster_z;
    cfg.numAttrs = 2;
  }
  SLUICE_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...));
}

template <typename... Params, typename... Args>
void launch_pdl_smem(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t s,
                     Args&&... args) {
  launch_pdl_cluster(kernel, grid, block, smem, 1, s, std::forward<Args>(args)...);
}

template <typename... Params, typename... Args>
void launch_pdl(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t s, Args&&... args) {
  launch_pdl_smem(kernel, grid, block, 0, s, std::forward<Args>(args)...);
}

}  // namespace sluice::cuda
