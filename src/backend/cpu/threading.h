#pragma once
// OpenMP helpers for the CPU backend: a thread count per backend instance and static
// partitioning of index ranges (static keeps each thread on a contiguous slice of weight rows).
#include <algorithm>
#include <cstdint>

#include "common/openmp.h"

namespace sluice::cpu {

// num_threads <= 0 means all cores.
inline int resolve_threads(int num_threads) {
  return num_threads > 0 ? num_threads : processor_count();
}

// Calls fn(begin, end) on [0, count) split into contiguous chunks of `grain` (the last may be
// shorter), over at most `threads` threads. Runs inline when there is a single chunk.
template <typename Fn>
void parallel_chunks(int threads, int64_t count, int64_t grain, Fn&& fn) {
  if (count <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t num_chunks = (count + grain - 1) / grain;
  const int nt = static_cast<int>(std::min<int64_t>(threads, num_chunks));
  if (nt <= 1) {
    fn(int64_t{0}, count);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t c = 0; c < num_chunks; ++c) {
    const int64_t b = c * grain;
    fn(b, std::min(count, b + grain));
  }
}

// Same with a dynamic schedule (uneven work items such as attention over ragged sequences).
template <typename Fn>
void parallel_items_dynamic(int threads, int64_t count, Fn&& fn) {
  if (count <= 0) return;
  const int nt = static_cast<int>(std::min<int64_t>(threads, count));
  if (nt <= 1) {
    for (int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) fn(i);
}

}  // namespace sluice::cpu
