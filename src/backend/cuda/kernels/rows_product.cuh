#pragma once
// The skeleton shared by the weight-streaming products (kernels_matmul.cu: float weights,
// kernels_matmul_act16.cu: quantized weights x int16 activations). A block computes kRows
// weight rows for NC activation rows; its ks warps split each row's units (lane-interleaved),
// and their sums are added in a fixed order, the same for every n (batch invariance).
// Several weights of one dtype and column count can share a launch (q/k/v, gate/up): the
// grid's blocks of rows are laid end to end over them ("segments").
#include <algorithm>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "common/assert.h"

namespace sluice::cuda {

constexpr int kMaxSplit = 8;  // warps per block, splitting each row's units between them
constexpr int kRows = 4;      // weight rows per block (each activation load serves all of them)
// Resident blocks of kMaxSplit warps asked of the compiler: for one activation row, the
// format's kResidentBlocks (4: at most 64 registers a thread, where that spills nothing; at
// 70-71 the down projection's 1,024 blocks took 2.6 waves instead of 2).
template <class F, int NC>
constexpr int kMinBlocks = NC == 1 ? F::kResidentBlocks : 1;

// Warps per block for a row of `units`: enough that every lane gets about one unit (two per
// lane measured 3% slower on 8B 4-bit decode). Depends on the weight's shape only, so each
// output's arithmetic is the same for every n.
inline int split_warps(int64_t units) {
  return static_cast<int>(std::clamp<int64_t>(units / 32, 1, kMaxSplit));
}

struct Segments {
  Planes w[kMaxRowsProducts];
  int64_t rows[kMaxRowsProducts] = {};
  float* y[kMaxRowsProducts] = {};
  const float* bias[kMaxRowsProducts] = {};
  int64_t first_block[kMaxRowsProducts + 1] = {};  // [count] = total blocks
  int count = 0;
};

// The segments of `count` products (same dtype and cols), blocks of `rows_per_block` rows.
inline Segments make_segments(const RowsProduct* ps, int count, int64_t unit_elems,
                              int64_t rows_per_block) {
  SLUICE_ASSERT(count >= 1 && count <= kMaxRowsProducts,
                "1 to kMaxRowsProducts products per launch");
  Segments s;
  s.count = count;
  for (int i = 0; i < count; ++i) {
    SLUICE_ASSERT(ps[i].w->dtype == ps[0].w->dtype && ps[i].w->cols == ps[0].w->cols,
                  "products in one launch share their dtype and column count");
    s.w[i] = planes(*ps[i].w, unit_elems);
    s.rows[i] = ps[i].w->rows;
    s.y[i] = ps[i].y;
    s.bias[i] = ps[i].bias;
    s.first_block[i + 1] = s.first_block[i] + (s.rows[i] + rows_per_block - 1) / rows_per_block;
  }
  return s;
}

// Block b's weight: its planes, rows, output, bias, and the first row of the block.
struct Segment {
  Planes w;
  int64_t rows;
  float* y;
  const float* bias;
  int64_t r0;
  int index;  // of the product in Segments
};
__device__ __forceinline__ Segment segment_of(const Segments& s, int64_t b,
                                              int64_t rows_per_block) {
  int i = 0;
  while (i + 1 < s.count && b >= s.first_block[i + 1]) ++i;
  return Segment{s.w[i], s.rows[i], s.y[i], s.bias[i], (b - s.first_block[i]) * rows_per_block, i};
}

// Calls body(wu, u) for this thread's units u (warp * 32 + lane, + 32 * ks, ...) with wu[r] the
// unit u of weight row r0 + r (r < nr). The first units load before pdl_wait(): the kernel
// before may still be writing the activations.
template <class F, class Body>
__device__ __forceinline__ void walk_units(const Planes& w, int64_t r0, int nr, int64_t units,
                                           Body&& body) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32, ks = blockDim.x / 32;
  const int64_t step = 32 * ks;
  typename F::Unit next[kRows];
  int64_t u = warp * 32 + lane;
#pragma unroll
  for (int r = 0; r < kRows; ++r)
    if (r < nr && u < units) next[r] = F::load(w, r0 + r, u);
  pdl_wait();
  for (; u < units; u += step) {
    typename F::Unit wu[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      wu[r] = next[r];
      if (r < nr && u + step < units) next[r] = F::load(w, r0 + r, u + step);
    }
    body(wu, u);
  }
  pdl_launch_dependents();  // this block's weights are in: the next kernel may be scheduled
}

// Staged loads: the weight units of a thread's next `stages` iterations (all kRows rows) go to
// shared memory by cp.async, so they take no registers and more bytes are in flight per SM.
// A stage holds kRows slots: [threads] units' codes (F::kCodeBytes each), then their headers.
template <class F>
__host__ __device__ constexpr int64_t stage_bytes(int threads) {
  return int64_t{kRows} * threads * (F::kCodeBytes + F::kHeaderBytes);
}
// Stages for rows of `units` walked by `threads` threads: a thread's iterations, at most
// max_stages (0: loads through registers, walk_units).
inline int stages_for(int64_t units, int threads, int max_stages) {
  return static_cast<int>(std::min<int64_t>((units + threads - 1) / threads, max_stages));
}

// Resident blocks asked of the compiler for the staged kernels (no registers hold loads ahead):
// 4 at one activation row for units of up to 32 bytes (the 8-bit ones would spill).
template <class F, int NC>
constexpr int kStagedMinBlocks = NC == 1 && F::kCodeBytes + F::kHeaderBytes <= 32 ? 4 : 1;

// `Kernel`'s dynamic shared memory limit raised to `bytes`, on first use.
template <auto Kernel>
void allow_staged_smem(int64_t bytes) {
  static const bool done = [bytes] {
    SLUICE_CUDA_CHECK(cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(bytes)));
    return true;
  }();
  (void)done;
}

// Copies unit u of rows r0 .. r0 + nr - 1 into this thread's slots of `stage` (nothing past
// the row's end) and commits them as one group (empty or not: every thread counts alike).
template <class F>
__device__ __forceinline__ void stage_units(const Planes& w, int64_t r0, int nr, int64_t u,
                                            int64_t units, uint8_t* stage) {
  const int t = threadIdx.x, threads = blockDim.x;
  const int64_t slot = int64_t{threads} * (F::kCodeBytes + F::kHeaderBytes);
  if (u < units) {
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (r < nr) {
        const int64_t i = (r0 + r) * w.units + u;
        uint8_t* codes = stage + r * slot + t * F::kCodeBytes;
#pragma unroll
        for (int v = 0; v < F::kCodeBytes / 16; ++v)
          cp_async16(codes + 16 * v, w.codes + i * F::kCodeBytes + 16 * v, 16);
        uint8_t* header = stage + r * slot + int64_t{threads} * F::kCodeBytes + t * F::kHeaderBytes;
        if constexpr (F::kHeaderBytes == 4) cp_async4(header, w.headers + i * 4);
        if constexpr (F::kHeaderBytes == 8) cp_async8(header, w.headers + i * 8, 8);
      }
    }
  }
  cp_async_commit();
}

// walk_units with staged loads: the same body calls in the same order (so the same sums), each
// unit read from this thread's slots once its group is in; `smem`: stages * stage_bytes<F>.
template <class F, class Body>
__device__ __forceinline__ void walk_units_staged(const Planes& w, int64_t r0, int nr,
                                                  int64_t units, uint8_t* smem, int stages,
                                                  Body&& body) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32, threads = blockDim.x;
  const int64_t step = threads, bytes = stage_bytes<F>(threads);
  const int64_t slot = int64_t{threads} * (F::kCodeBytes + F::kHeaderBytes);
  int64_t u = warp * 32 + lane;
  for (int s = 0; s < stages; ++s) stage_units<F>(w, r0, nr, u + s * step, units, smem + s * bytes);
  pdl_wait();
  for (int s = 0; u < units; u += step, s = s + 1 == stages ? 0 : s + 1) {
    cp_async_wait_upto(stages - 1);
    uint8_t* stage = smem + s * bytes;
    typename F::Unit wu[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r)
      if (r < nr)
        wu[r] = F::at(stage + r * slot, stage + r * slot + int64_t{threads} * F::kCodeBytes,
                      threadIdx.x);
    body(wu, u);
    asm volatile("" ::: "memory");  // the slot's reads stay above its refill
    stage_units<F>(w, r0, nr, u + stages * step, units, stage);
  }
  pdl_launch_dependents();
}

// y[out_row(c), r0 + r] = the block's sum of acc[r][c] times scale[c] (null: 1) plus
// bias[r0 + r] (null: 0), or y += it when accumulate: lanes by shuffles, then warps in order
// through `part` (shared memory).
template <int NC, class OutRow>
__device__ __forceinline__ void store_sums(float (&acc)[kRows][NC],
                                           float (&part)[kMaxSplit][kRows][NC], int nr, int nc,
                                           float* y, int64_t rows, int64_t r0, OutRow out_row,
                                           const float* scale = nullptr, bool accumulate = false,
                                           const float* bias = nullptr) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32, ks = blockDim.x / 32;
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      float v = acc[r][c];
      for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
      if (lane == 0) part[warp][r][c] = v;
    }
  __syncthreads();
  if (threadIdx.x < kRows * NC) {
    const int r = threadIdx.x / NC, c = threadIdx.x % NC;
    if (r < nr && c < nc) {
      float v = part[0][r][c];
      for (int k = 1; k < ks; ++k) v += part[k][r][c];
      if (scale) v *= scale[c];
      if (bias) v += bias[r0 + r];
      float* out = y + static_cast<int64_t>(out_row(c)) * rows + r0 + r;
      *out = accumulate ? *out + v : v;
    }
  }
}

// store_sums into rows c0 + c of y.
template <int NC>
__device__ __forceinline__ void store_row_sums(float (&acc)[kRows][NC],
                                               float (&part)[kMaxSplit][kRows][NC], int nr, int nc,
                                               float* y, int64_t rows, int64_t r0, int64_t c0,
                                               const float* scale = nullptr,
                                               bool accumulate = false,
                                               const float* bias = nullptr) {
  store_sums<NC>(
      acc, part, nr, nc, y, rows, r0, [c0](int c) { return c0 + c; }, scale, accumulate, bias);
}

}  // namespace sluice::cuda
