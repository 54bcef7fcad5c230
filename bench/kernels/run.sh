#!/usr/bin/env bash
# Builds and runs the kernel microbenchmark against the backend library of build/be.
#   cmake -S . -B build/be -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build/be --target sluice_backend
#   bench/kernels/run.sh [rows cols]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${BUILD_DIR:-$root/build/be}"
c++ -std=c++20 -O2 -fopenmp -I"$root/src" "$root/bench/kernels/matmul_bench.cc" \
  "$build/libsluice_backend.a" "$build/libsluice_common.a" $(pkg-config --libs libhwy) \
  -o "$build/matmul_bench"
"$build/matmul_bench" "$@"
