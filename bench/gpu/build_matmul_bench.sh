#!/usr/bin/env bash
# Builds build/cuda/matmul_gpu_bench against the CUDA build's libraries (cmake --preset cuda).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/cuda/bin
cmake --build --preset cuda --target sluice_backend sluice_common >/dev/null
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
g++ -std=c++20 -O2 -fopenmp -Isrc -I"$cuda/include" bench/gpu/matmul_gpu_bench.cc \
  build/cuda/libsluice_backend.a build/cuda/libsluice_common.a $(pkg-config --libs libhwy) \
  -L"$cuda/lib64" -lcublas -lcudart_static -ldl -lrt -lpthread -o build/cuda/matmul_gpu_bench
echo build/cuda/matmul_gpu_bench
