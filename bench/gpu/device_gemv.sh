#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (bench/gpu/build_matmul_bench.sh, then
# DEVCARRY_EXTRA=build/cuda/matmul_gpu_bench scripts/device_bundle.sh): the weight-streaming products (n <= 8)
# per weight shape as built and under each VAR=VALUE given, then single-stream decode of MODELS
# the same ways. SHAPES: "FMT ROWS COLS;..." (default: the Llama-3-8B 4-bit shapes); MODELS:
# bench_gpu.py names (default llama3-8b-q4_0; none: skip decode). Results in $OUT/gemv.tgz.
#   bench/gpu/device_gemv.sh NS VAR=VALUE...   e.g. bench/gpu/device_gemv.sh 1,8 SLUICE_CUDA_ROWS_STAGES=0
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/gemv && mkdir -p "$out"
ns=$1
shift
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
IFS=';' read -ra shapes <<<"${SHAPES:-q4 4096 4096;q4 6144 4096;q4 28672 4096;q4 4096 14336;q4 151669 4096}"
for spec in "${shapes[@]}"; do
  read -r fmt rows cols <<<"$spec"
  devcarry/bin/matmul_gpu_bench "$rows" "$cols" "$fmt" env "$ns" "$@" | tee -a "$out/matmul_gemv.md"
  echo | tee -a "$out/matmul_gemv.md"
done
models=${MODELS-llama3-8b-q4_0}
if [ -n "$models" ]; then
  variants=(--variant "as_built=devcarry/bin/sluice")
  for e in "$@"; do variants+=(--variant "${e%%=*}_${e#*=}=devcarry/bin/sluice:$e"); done
  python3 bench/gpu/ab_decode.py --tokenizer devcarry/tok/tokenizer.json --out "$out" \
    --models-dir /tmp/sluice-models --only "$models" --rounds "${ROUNDS:-2}" "${variants[@]}" 2>&1 | tail -12
fi
tar czf "$OUT/gemv.tgz" -C "$OUT" gemv && rm -rf "$out"
