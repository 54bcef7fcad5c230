#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh plus
# build/cuda/matmul_gpu_bench copied to devcarry/bin): the weight-streaming products (n <= 8)
# per Llama-3-8B weight shape as built and under each VAR=VALUE given, then single-stream decode
# of the 8B 4-bit model the same ways. Results in $OUT/gemv.tgz.
#   bench/gpu/device_gemv.sh NS VAR=VALUE...   e.g. bench/gpu/device_gemv.sh 16,64 SLUICE_CUDA_QGEMM_SHAPE=1
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/gemv && mkdir -p "$out"
ns=$1
shift
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
for spec in "q4 4096 4096" "q4 6144 4096" "q4 28672 4096" "q4 4096 14336" "q4 151669 4096"; do
  set -- $spec "$@"
  devcarry/bin/matmul_gpu_bench "$2" "$3" "$1" env "$ns" "${@:4}" | tee -a "$out/matmul_gemv.md"
  echo | tee -a "$out/matmul_gemv.md"
  shift 3
done
variants=(--variant "as_built=devcarry/bin/sluice")
for e in "$@"; do variants+=(--variant "${e%%=*}=devcarry/bin/sluice:$e"); done
python3 bench/gpu/ab_decode.py --tokenizer devcarry/tok/tokenizer.json --out "$out" \
  --models-dir /tmp/m --only llama3-8b-q4_0 --rounds 2 "${variants[@]}" 2>&1 | tail -6
tar czf "$OUT/gemv.tgz" -C "$OUT" gemv && rm -rf "$out"
