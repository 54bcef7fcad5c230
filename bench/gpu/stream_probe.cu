// How fast can one persistent block per multiprocessor stream a weight buffer from HBM? The
// question behind decode_layers' slow weight stream (PERFORMANCE_GPU.md, eleventh session).
// Each block reads its contiguous share of a 4 GiB buffer once per launch, by one of:
//   tma  SLOTS BYTES COPIES READ: a producer thread fills a ring of SLOTS shared-memory slots
//        of BYTES with COPIES bulk copies each; 16 consumer warps wait for every slot, read it
//        (READ=1: 16-byte shared loads summed) and release it;
//   ldg  THREADS UNROLL: every thread loads 16-byte words (UNROLL in flight) through ld.global.nc;
// optionally with a grid barrier after every PHASE bytes of each block's share (the fused
// kernel's phases). Prints GB/s per variant (best of 5 launches).
//   nvcc -O3 -std=c++20 -gencode=arch=compute_90a,code=sm_90a -Isrc bench/gpu/stream_probe.cu
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backend/cuda/bulk_copy.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/grid_barrier.cuh"

using namespace sluice::cuda;


constexpr int kConsumerWarps = 16;
constexpr int kConsumers = kConsumerWarps * 32;

struct TmaArgs {
  const uint8_t* buf;
  int64_t share;  // bytes per block
  int slots, slot_bytes, copies, read;
  int64_t phase;  // bytes per block between grid barriers (0: none)
  GridBarrierState* barrier;
  unsigned* sink;
  const unsigned* chase;            // an L2-resident ring of indices (dependent loads)
  unsigned long long* chase_clocks;  // [0] cycles, [1] loads: latency of L2 hits meanwhile
};

__device__ __forceinline__ void consumers_sync() {
  asm volatile("bar.sync 1, %0;" ::"n"(kConsumers) : "memory");
}

__global__ __launch_bounds__(kConsumers + 32, 1) void tma_kernel(TmaArgs a) {
  extern __shared__ __align__(128) uint8_t smem[];
  uint64_t* full = reinterpret_cast<uint64_t*>(smem);
  uint64_t* empty = full + a.slots;
  uint8_t* ring = smem + 1024;
  if (threadIdx.x == 0) {
    for (int i = 0; i < a.slots; ++i) mbarrier_init(&full[i], 1), mbarrier_init(&empty[i], kConsumerWarps);
    mbarrier_init_fence();
  }
  __syncthreads();
  const uint8_t* base = a.buf + a.share * blockIdx.x;
  const int64_t chunks = a.share / a.slot_bytes;
  if (threadIdx.x >= kConsumers) {
    if (threadIdx.x != kConsumers) return;
    const uint32_t part = a.slot_bytes / a.copies;
    for (int64_t c = 0; c < chunks; ++c) {
      const int slot = c % a.slots;
      const uint32_t use = c / a.slots;
      if (use > 0) mbarrier_wait(&empty[slot], (use - 1) & 1);
      mbarrier_arrive_expect(&full[slot], a.slot_bytes);
      for (int k = 0; k < a.copies; ++k)
        bulk_copy(ring + slot * a.slot_bytes + k * part, base + c * a.slot_bytes + k * part, part,
                  &full[slot]);
    }
    return;
  }
  const int lane = threadIdx.x % 32;
  unsigned acc = 0;
  const int64_t chunks_per_phase = a.phase > 0 ? a.phase / a.slot_bytes : chunks;
  for (int64_t c = 0; c < chunks; ++c) {
    const int slot = c % a.slots;
    mbarrier_wait(&full[slot], (c / a.slots) & 1);
    if (a.read) {
      const uint4* p = reinterpret_cast<const uint4*>(ring + slot * a.slot_bytes);
      for (int i = threadIdx.x; i < a.slot_bytes / 16; i += kConsumers) {
        const uint4 v = p[i];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
      }
    }
    __syncwarp();
    if (lane == 0) mbarrier_arrive(&empty[slot]);
    if ((c + 1) % chunks_per_phase == 0 && a.phase > 0) {
      grid_barrier(a.barrier, gridDim.x, [] { consumers_sync(); });
      if (threadIdx.x == 0) {  // 8 dependent L2 hits, as a phase's activation reads
        const long long t0 = clock64();
        unsigned j = blockIdx.x * 64 + static_cast<unsigned>(c);
        for (int k = 0; k < 8; ++k) j = __ldcg(a.chase + (j & 262143u));
        acc += j;
        atomicAdd(&a.chase_clocks[0], static_cast<unsigned long long>(clock64() - t0));
        atomicAdd(&a.chase_clocks[1], 8ull);
      }
    }
  }
  if (acc == 0x12345678u) a.sink[0] = acc;
}

struct LdgArgs {
  const uint4* buf;
  int64_t share;  // 16-byte words per block
  int64_t phase;  // words per block between grid barriers (0: none)
  GridBarrierState* barrier;
  unsigned* sink;
};

template <int U>
__global__ void ldg_kernel(LdgArgs a) {
  const uint4* base = a.buf + a.share * blockIdx.x;
  unsigned acc = 0;
  const int64_t span = a.phase > 0 ? a.phase : a.share;
  for (int64_t p0 = 0; p0 < a.share; p0 += span) {
    const int64_t end = min(a.share, p0 + span);
    for (int64_t i = p0 + threadIdx.x; i < end; i += static_cast<int64_t>(blockDim.x) * U) {
      uint4 v[U];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int64_t j = i + static_cast<int64_t>(u) * blockDim.x;
        v[u] = j < end ? __ldg(base + j) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int u = 0; u < U; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
    }
    if (a.phase > 0) grid_barrier(a.barrier, gridDim.x, [] { __syncthreads(); });
  }
  if (acc == 0x12345678u) a.sink[0] = acc;
}

template <class Launch>
double best_gbps(Launch&& launch, int64_t bytes) {
  cudaEvent_t e0, e1;
  SLUICE_CUDA_CHECK(cudaEventCreate(&e0));
  SLUICE_CUDA_CHECK(cudaEventCreate(&e1));
  float best = 1e30f;
  for (int rep = 0; rep < 6; ++rep) {
    SLUICE_CUDA_CHECK(cudaEventRecord(e0));
    launch();
    SLUICE_CUDA_CHECK(cudaEventRecord(e1));
    SLUICE_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms;
    SLUICE_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    if (rep > 0) best = std::min(best, ms);
  }
  return bytes / (best * 1e-3) / 1e9;
}

int main(int argc, char** argv) {
  int sms;
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const int64_t total = 4ll << 30;
  uint8_t* buf;
  SLUICE_CUDA_CHECK(cudaMalloc(&buf, total));
  SLUICE_CUDA_CHECK(cudaMemset(buf, 1, total));
  GridBarrierState* bar;
  unsigned* sink;
  SLUICE_CUDA_CHECK(cudaMalloc(&bar, sizeof(GridBarrierState)));
  SLUICE_CUDA_CHECK(cudaMemset(bar, 0, sizeof(GridBarrierState)));
  SLUICE_CUDA_CHECK(cudaMalloc(&sink, 4));
  unsigned* chase;
  unsigned long long* clocks;
  SLUICE_CUDA_CHECK(cudaMalloc(&chase, 262144 * 4));
  SLUICE_CUDA_CHECK(cudaMemset(chase, 0, 262144 * 4));
  SLUICE_CUDA_CHECK(cudaMalloc(&clocks, 16));
  SLUICE_CUDA_CHECK(cudaMemset(clocks, 0, 16));
  int smem_optin;
  SLUICE_CUDA_CHECK(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
  // Each line of stdin-like args: "tma SLOTS BYTES COPIES READ PHASE" or "ldg THREADS UNROLL PHASE".
  for (int i = 1; i < argc; ++i) {
    const std::string spec = argv[i];
    char kind[8];
    long p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0;
    std::sscanf(spec.c_str(), "%7[a-z]:%ld:%ld:%ld:%ld:%ld", kind, &p1, &p2, &p3, &p4, &p5);
    double gbps = 0;
    if (std::string(kind) == "tma") {
      TmaArgs a{buf, 0, static_cast<int>(p1), static_cast<int>(p2), static_cast<int>(p3),
                static_cast<int>(p4), p5, bar, sink, chase, clocks};
      a.share = total / sms / a.slot_bytes * a.slot_bytes;
      if (a.phase) a.phase = a.phase / a.slot_bytes * a.slot_bytes;
      const int smem = 1024 + a.slots * a.slot_bytes;
      if (smem > smem_optin) {
        std::printf("%-28s does not fit\n", spec.c_str());
        continue;
      }
      SLUICE_CUDA_CHECK(cudaFuncSetAttribute(tma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
      gbps = best_gbps([&] { tma_kernel<<<sms, kConsumers + 32, smem>>>(a); },
                       a.share * sms);
      unsigned long long h[2] = {0, 0};
      SLUICE_CUDA_CHECK(cudaMemcpy(h, clocks, 16, cudaMemcpyDeviceToHost));
      SLUICE_CUDA_CHECK(cudaMemset(clocks, 0, 16));
      if (h[1]) std::printf("  L2-hit latency during the stream: %.0f cycles\n", double(h[0]) / h[1]);
    } else {
      LdgArgs a{reinterpret_cast<const uint4*>(buf), total / 16 / sms, p3 / 16, bar, sink};
      const dim3 grid(sms), block(static_cast<unsigned>(p1));
      gbps = best_gbps(
          [&] {
            switch (p2) {
              case 1: ldg_kernel<1><<<grid, block>>>(a); break;
              case 2: ldg_kernel<2><<<grid, block>>>(a); break;
              case 4: ldg_kernel<4><<<grid, block>>>(a); break;
              default: ldg_kernel<8><<<grid, block>>>(a); break;
            }
          },
          a.share * 16 * sms);
    }
    SLUICE_CUDA_CHECK(cudaGetLastError());
    std::printf("%-28s %8.1f GB/s\n", spec.c_str(), gbps);
    std::fflush(stdout);
  }
  return 0;
}
