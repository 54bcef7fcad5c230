#pragma once
// OpenMP's thread queries, with serial stand-ins for builds without OpenMP (the ThreadSanitizer
// build: libgomp is not instrumented, so its barriers would read as data races there).
#include <algorithm>
#include <thread>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace sluice {

// Threads an OpenMP parallel region may use (1 without OpenMP).
inline int parallel_max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Processors available to this process.
inline int processor_count() {
#ifdef _OPENMP
  return std::max(1, omp_get_num_procs());
#else
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#endif
}

}  // namespace sluice
