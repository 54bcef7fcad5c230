#!/usr/bin/env bash
# Packs the CUDA build (built here: the GPU machine has no Debian dev packages) and the shared
# libraries it needs that a CUDA image may lack into devcarry/ (git-ignored), for the `device`
# tool's `carry`. On the GPU machine: export LD_LIBRARY_PATH=$PWD/devcarry/lib:$LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cuda >/dev/null
cmake --build --preset cuda -j"$(nproc)" --target sluice backend_tests model_tests engine_tests
rm -rf devcarry && mkdir -p devcarry/bin devcarry/lib
cp build/cuda/sluice build/cuda/backend_tests build/cuda/model_tests build/cuda/engine_tests devcarry/bin/
strip devcarry/bin/*
for lib in libxxhash.so.0 libhwy.so.1 libpcre2-8.so.0 libutf8proc.so.2 libcpp-httplib.so.0.11 \
           libbrotlidec.so.1 libbrotlienc.so.1 libbrotlicommon.so.1 libgomp.so.1; do
  cp -L "/lib/x86_64-linux-gnu/$lib" devcarry/lib/
done
mkdir -p devcarry/tok  # the GPU machine has no ../shared: make-model needs a tokenizer
cp ../shared/testdata/tokenizers/qwen3/tokenizer.json devcarry/tok/
du -sh devcarry
