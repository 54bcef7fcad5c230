#pragma once
// How the CPU backend splits a product y[n, rows] = x . w^T over threads: tiles of activation
// rows x weight rows, planned once per call and run in one parallel region.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/threading.h"

namespace sluice::cpu {

// Activation elements from which a product's activation quantization is shared between threads.
constexpr int64_t kQuantInParallel = 4 * 16384;

// One tile of a product: x rows [i0, i1) x weight rows [r0, r1) of product `prod`.
struct MatmulTile {
  int64_t i0, i1, r0, r1;
  int prod;
};

// Appends the tiles of y[n, rows] (product `prod`). Decode (n <= 4): one contiguous slice of
// weight rows per thread. Batches: weight tiles that stay in L2, and n is split too when there
// are fewer row tiles than threads; both in multiples of `group` rows (the batched kernels' 8,
// or 16 on AMX tiles). Returns whether the problem is big enough to share.
bool plan_matmul_tiles(int threads, int64_t n, int64_t rows, size_t row_bytes, int prod,
                       std::vector<MatmulTile>& tiles, int64_t group = 8);

// Runs fn(i0, i1, r0, r1) over the tiles of y[n, rows] in parallel (static schedule).
template <typename Fn>
void run_matmul_tiles(int threads, int64_t n, int64_t rows, size_t row_bytes, Fn&& fn,
                      int64_t group = 8) {
  thread_local std::vector<MatmulTile> scratch;
  std::vector<MatmulTile>& tiles = scratch;  // the caller's, also inside the parallel region
  tiles.clear();
  const int nt = plan_matmul_tiles(threads, n, rows, row_bytes, 0, tiles, group) ? threads : 1;
  parallel_chunks(nt, static_cast<int64_t>(tiles.size()), 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) fn(tiles[t].i0, tiles[t].i1, tiles[t].r0, tiles[t].r1);
  });
}

}  // namespace sluice::cpu
