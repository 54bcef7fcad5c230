#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh plus
# build/cuda/matmul_gpu_bench copied to devcarry/bin): the weight-streaming kernels' variants
# (SLUICE_CUDA_GEMV 0-4) per 8B weight shape, then single-stream decode with each variant.
# Results in $OUT/gemv.tgz.   bench/gpu/device_gemv.sh [ROUNDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
export LD_LIBRARY_PATH=$PWD/devcarry/lib:${LD_LIBRARY_PATH:-}
out=${OUT:?}/gemv && mkdir -p "$out"
rounds=${1:-2}
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
devcarry/bin/backend_tests --gtest_filter='CudaOps*' --gtest_brief=1 >"$out/cuda_ops_test.log" 2>&1
echo "op tests: exit $?"; grep -E "FAILED|Failure|PASSED" "$out/cuda_ops_test.log" | head -20
for spec in "q4 4096 4096" "q4 6144 4096" "q4 28672 4096" "q4 4096 14336" "q4 151669 4096" \
            "q8 4096 4096" "bf16 4096 4096" "bf16 28672 4096" "bf16 4096 14336"; do
  set -- $spec
  devcarry/bin/matmul_gpu_bench "$2" "$3" "$1" gemv 1,2,4,8 | tee -a "$out/matmul_gemv.md"
  echo | tee -a "$out/matmul_gemv.md"
done
variants=()
for v in 0 1 2 3 4; do variants+=(--variant "v$v=devcarry/bin/sluice:SLUICE_CUDA_GEMV=$v"); done
python3 bench/gpu/ab_decode.py --tokenizer devcarry/tok/tokenizer.json --out "$out" \
  --models-dir /tmp/m --only llama3-8b-q4_0,llama3-8b-bf16 --rounds "$rounds" "${variants[@]}" \
  2>&1 | tail -20
tar czf "$OUT/gemv.tgz" -C "$OUT" gemv && rm -rf "$out"
