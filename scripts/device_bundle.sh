#!/usr/bin/env bash
# Packs the CUDA build (built here: the GPU machine has no Debian dev packages) and the shared
# libraries it needs that a CUDA image may lack into devcarry/pack.tgz (git-ignored), for the
# `device` tool's `carry`: the binaries alone are over the tool's 64 MiB, compressed ~25 MB.
# On the GPU machine: tar xzf devcarry/pack.tgz (bench/gpu/device_env.sh does it), then
# export LD_LIBRARY_PATH=$PWD/devcarry/lib:$LD_LIBRARY_PATH.
# Extra files to pack (e.g. build/cuda/matmul_gpu_bench): DEVCARRY_EXTRA="path ...".
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset cuda -DSLUICE_VIDEO=OFF >/dev/null  # no FFmpeg libraries there
cmake --build --preset cuda -j"$(nproc)" --target sluice backend_tests model_tests engine_tests
rm -rf devcarry && mkdir -p devcarry/bin devcarry/lib
cp build/cuda/sluice build/cuda/backend_tests build/cuda/model_tests build/cuda/engine_tests devcarry/bin/
strip devcarry/bin/*
for lib in libxxhash.so.0 libhwy.so.1 libpcre2-8.so.0 libutf8proc.so.2 libcpp-httplib.so.0.11 \
           libbrotlidec.so.1 libbrotlienc.so.1 libbrotlicommon.so.1 libgomp.so.1 libcrypto.so.3 \
           libjpeg.so.62 libpng16.so.16 libgif.so.7 libwebp.so.7 libwebpdemux.so.2 libssl.so.3 \
           libsimdjson.so.14; do
  cp -L "/lib/x86_64-linux-gnu/$lib" devcarry/lib/
done
mkdir -p devcarry/tok  # the GPU machine has no ../shared: make-model needs a tokenizer
cp ../shared/testdata/tokenizers/qwen3/tokenizer.json devcarry/tok/
if [ -f models/gemma3-270m-q4_k_m.gguf ]; then  # Gemma 3's vocabulary (image tokens) for VLMs
  .venv/bin/python bench/gpu/vocab_only_gguf.py models/gemma3-270m-q4_k_m.gguf \
    devcarry/tok/gemma3-vocab.gguf
fi
for f in ${DEVCARRY_EXTRA:-}; do cp "$f" devcarry/bin/ && strip "devcarry/bin/$(basename "$f")"; done
tar czf /tmp/devcarry_pack.tgz devcarry
rm -rf devcarry && mkdir devcarry && mv /tmp/devcarry_pack.tgz devcarry/pack.tgz
du -sh devcarry/pack.tgz
