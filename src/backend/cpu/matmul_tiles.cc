// The CPU backend's product tiles (matmul_tiles.h).
#include "backend/cpu/matmul_tiles.h"

#include <algorithm>

namespace sluice::cpu {
namespace {

constexpr size_t kTileWeightBytes = 128 << 10;      // weight rows per tile when n > 4 (stays in L2)
constexpr size_t kTileActivationBytes = 512 << 10;  // activation rows per tile, at weight widths

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t m) {
  return ceil_div(a, m) * m;
}

}  // namespace

bool plan_matmul_tiles(int threads, int64_t n, int64_t rows, size_t row_bytes, int prod,
                       std::vector<MatmulTile>& tiles, int64_t group) {
  // Multiples of 8 rows: the quantized kernels work on 8 (or 4) weight rows at a time.
  const int64_t per_thread = round_up(ceil_div(rows, threads), 8);
  int64_t rg = per_thread;
  if (n > 4) {
    const int64_t g = std::min(group, round_up(per_thread, 8));
    rg = std::clamp<int64_t>(
        round_up(static_cast<int64_t>(kTileWeightBytes / std::max<size_t>(row_bytes, 1)), g), g,
        round_up(per_thread, g));
    // Equal tiles, a multiple of `threads` of them: the static schedule gives each thread the
    // same number of rows (5 tiles of 368 rows left one of two threads idle 40% of the time).
    rg = round_up(ceil_div(rows, round_up(ceil_div(rows, rg), threads)), g);
  }
  const int64_t nr = ceil_div(rows, rg);
  int64_t ng = n;
  if (nr < threads && n > 4) ng = round_up(ceil_div(n, ceil_div(threads, nr)), group);
  // Long batches (encoders, long prefills): activation chunks that stay in L2 while a thread
  // walks every weight tile over them, instead of streaming all n rows once per weight tile.
  const int64_t chunk =
      round_up(std::max<int64_t>(
                   1, static_cast<int64_t>(kTileActivationBytes / std::max<size_t>(row_bytes, 1))),
               group);
  if (n > 4 && ng > chunk) ng = chunk;
  const int64_t nn = ceil_div(n, ng);
  for (int64_t t = 0; t < nr * nn; ++t) {
    const int64_t ti = t / nr, tr = t % nr;
    tiles.push_back(
        {ti * ng, std::min(n, (ti + 1) * ng), tr * rg, std::min(rows, (tr + 1) * rg), prod});
  }
  // Serial for tiny problems: a parallel region costs more than it saves.
  return static_cast<double>(rows) * static_cast<double>(row_bytes) * n >= 64 * 1024;
}

}  // namespace sluice::cpu
