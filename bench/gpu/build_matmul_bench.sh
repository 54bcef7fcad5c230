#!/usr/bin/env bash
# Builds build/cuda/matmul_gpu_bench (or, with the argument sample_rows, sample_rows_bench; with
# attention, attention_gpu_bench)
# against the CUDA build's libraries (cmake --preset cuda).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/cuda/bin
which=${1:-matmul}
name=${which}_gpu_bench
[ "$which" = sample_rows ] && name=sample_rows_bench
cmake --build --preset cuda --target sluice_backend sluice_common sluice_engine >/dev/null
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
g++ -std=c++20 -O2 -fopenmp -Isrc -I"$cuda/include" "bench/gpu/$name.cc" \
  build/cuda/libsluice_engine.a build/cuda/libsluice_backend.a build/cuda/libsluice_common.a \
  $(pkg-config --libs libhwy) -lcrypto -lsimdjson -L"$cuda/lib64" -lcublas -lcudart_static -ldl -lrt -lpthread \
  -o "build/cuda/$name"
echo "build/cuda/$name"
