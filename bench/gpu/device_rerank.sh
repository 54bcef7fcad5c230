#!/usr/bin/env bash
# Cross-encoder rerank and BERT embeddings through `sluice serve` on CUDA and CPU against
# sentence-transformers (bench/gpu/check_rerank.py). Carry: devcarry (scripts/device_bundle.sh;
# devcarry/tok/tokenizer.json must be all-MiniLM-L6-v2's). Results under $OUT.
source "$(dirname "$0")/device_env.sh"
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
OUT=$OUT python3 bench/gpu/check_rerank.py 2>&1 | grep -v "Loading weights"
