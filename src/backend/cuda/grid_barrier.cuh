#pragma once
// A barrier over every block of a grid whose blocks are all resident at once (one per
// multiprocessor): the last block to arrive resets the count and bumps the generation the
// others spin on, so the state is ready for the next barrier, launch or graph replay. The
// fences make each block's writes before the barrier visible to every block after it (read
// them with __ldcg: L1 is not coherent between multiprocessors).
#include <cstdint>

namespace sluice::cuda {

struct GridBarrierState {
  unsigned count;
  unsigned generation;
};

// `sync_block()` synchronizes the threads that take part (all of them call this).
template <class SyncBlock>
__device__ __forceinline__ void grid_barrier(GridBarrierState* s, unsigned blocks,
                                             SyncBlock&& sync_block) {
  sync_block();
  if (threadIdx.x == 0) {
    volatile unsigned* gen = &s->generation;
    const unsigned seen = *gen;
    __threadfence();
    if (atomicAdd(&s->count, 1u) == blocks - 1) {
      atomicExch(&s->count, 0u);
      __threadfence();
      atomicAdd(&s->generation, 1u);
    } else {
      while (*gen == seen) {
      }
    }
    __threadfence();
  }
  sync_block();
}

}  // namespace sluice::cuda
