#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh plus
# build/cuda/matmul_gpu_bench copied to devcarry/bin): the batched quantized GEMM (qgemm) as
# built and under each VAR=VALUE given: op tests (plain, memcheck, racecheck), the Llama-3-8B
# 4-bit products at 16/32/64 rows, an ncu look at the gate product at 64 rows, and serving the
# 8B 4-bit model at 16 and 64 concurrent. Results in $OUT/qgemm.tgz.
#   bench/gpu/device_qgemm.sh VAR=VALUE...   e.g. bench/gpu/device_qgemm.sh SLUICE_CUDA_QGEMM_CLUSTER=0
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/qgemm && mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
tests='CudaOps.*:Backends/OpTable.*/cuda_matmul*'
$b/backend_tests --gtest_filter='Cuda*:Backends/OpTable.*/cuda_*' >"$out/ops.txt" 2>&1
echo "op tests: exit $?"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]" "$out/ops.txt" | head
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$tests" >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?"; grep -E "ERROR SUMMARY" "$out/memcheck.txt"
compute-sanitizer --tool racecheck $b/backend_tests --gtest_filter='Backends/OpTable.*/cuda_matmul_q*' >"$out/racecheck.txt" 2>&1
echo "racecheck: exit $?"; grep -E "RACECHECK SUMMARY" "$out/racecheck.txt"
for spec in "q4 4096 4096" "q4 6144 4096" "q4 14336 4096" "q4 4096 14336" "q4 1024 4096"; do
  set -- $spec "$@"
  $b/matmul_gpu_bench "$2" "$3" "$1" env 16,32,64 "${@:4}" >>"$out/matmul_qgemm.md" 2>&1
  echo >>"$out/matmul_qgemm.md"
  shift 3
done
grep -v "^$" "$out/matmul_qgemm.md" | head -60
timeout 120 ncu --clock-control none --kernel-name regex:qgemm_kernel --launch-skip 20 --launch-count 1 \
  --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
  $b/matmul_gpu_bench 14336 4096 q4 64 >"$out/ncu_gate_n64.txt" 2>&1
echo "ncu: exit $?"; grep -E "Duration|Memory Throughput|Achieved Occupancy|Registers Per|Stall|Warp Cycles Per Issued" "$out/ncu_gate_n64.txt" | head -20
variants=("")
for e in "$@"; do variants+=("$e"); done
for v in "${variants[@]}"; do
  extra=()
  [ -n "$v" ] && extra=(--env "$v")
  echo "== serve ${v:-as built}"
  timeout 170 python3 bench/gpu/bench_gpu.py --sluice $b/sluice --tokenizer devcarry/tok/tokenizer.json \
    --models-dir /tmp/sluice-models --out "$out/serve_${v:-as_built}" --only llama3-8b-q4_0 \
    --levels 16,64 --batched-decode 64 --skip-decode --skip-prefill "${extra[@]}" 2>&1 |
    grep -o '"concurrency": [0-9]*\|"output_tok_s": [0-9.]*\|"decode_phase_tok_s": [0-9.]*\|"gen_tok_s": [0-9.]*' | paste -sd' '
done
tar czf "$OUT/qgemm.tgz" -C "$OUT" qgemm && rm -rf "$out"
