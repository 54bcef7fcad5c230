#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): the CUDA op tests,
# compute-sanitizer memcheck and racecheck on the matmul tests, and the whole-model checks.
# Everything lands in $OUT/checks.tgz (the device tool brings back at most 8 files).
#   bench/gpu/device_checks.sh [MEMCHECK_GTEST_FILTER] [RACECHECK_GTEST_FILTER]
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/checks && mkdir -p "$out"
san_filter=${1:-'CudaOps.*:Backends/OpTable.*/cuda_matmul_*'}
$b/backend_tests --gtest_filter='Cuda*:Backends/OpTable.*/cuda_*' --gtest_brief=1 >"$out/cuda_ops_test.log" 2>&1
echo "op tests: exit $?"; grep -E "FAILED|Failure|PASSED" "$out/cuda_ops_test.log" | head -20
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$san_filter" \
  >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?"; tail -2 "$out/memcheck.txt"
race_filter=${2:-'Backends/OpTable.*/cuda_matmul_q*'}
compute-sanitizer --tool racecheck $b/backend_tests --gtest_filter="$race_filter" \
  >"$out/racecheck.txt" 2>&1
echo "racecheck: exit $?"; tail -2 "$out/racecheck.txt"
python3 bench/gpu/check_models.py --sluice $b/sluice --tokenizer devcarry/tok/tokenizer.json \
  --out "$out" >"$out/check_models.log" 2>&1
echo "check_models: exit $?"; cut -c1-200 "$out/check_models.log"
tar czf "$OUT/checks.tgz" -C "$OUT" checks && rm -rf "$out"
