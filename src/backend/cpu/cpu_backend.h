#pragma once
// The CPU backend with its batched quantized kernels chosen by the caller: tests and benchmarks
// compare the paths (make_cpu_backend of backend.h takes cpu::default_quant_paths()).
#include <memory>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"

namespace sluice::cpu {

std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool int8_activations,
                                          const QuantPaths& paths);

}  // namespace sluice::cpu
