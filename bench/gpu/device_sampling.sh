#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, plus
# build/cuda/sample_rows_bench from bench/gpu/build_matmul_bench.sh sample_rows): the sampling
# op tests under memcheck and racecheck, sample_rows_bench, and serving with sampled requests
# (temperature 0.8, top-p 0.95) on the GPU vs on the host (SLUICE_CUDA_SAMPLING=0).
# Everything lands in $OUT/sampling.tgz.
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/sampling && mkdir -p "$out"
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter='Backends/OpTable.*/cuda_sample_rows*' >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?"; grep -E "PASSED|FAILED|ERROR SUMMARY" "$out/memcheck.txt"
compute-sanitizer --tool racecheck $b/backend_tests --gtest_filter='Backends/OpTable.*/cuda_sample_rows*' >"$out/racecheck.txt" 2>&1
echo "racecheck: exit $?"; grep -E "PASSED|FAILED|RACECHECK SUMMARY" "$out/racecheck.txt" | tail -2
$b/sample_rows_bench 151936 20 | tee "$out/sample_rows_bench.md"
AB_NAME=serving OUT=$out bash bench/gpu/device_ab.sh 1 "" "SLUICE_CUDA_SAMPLING=0" \
  --only qwen3-0.6b-bf16,llama3-8b-q4_0 --levels 1,16,64 --temperature 0.8 --top-p 0.95 \
  --skip-prefill --batched-decode 0 2>&1 |
  grep -o '== .*\|"concurrency": [0-9]*\|"output_tok_s": [0-9.]*\|"gen_tok_s": [0-9.]*' | paste -sd' ' | sed 's/== /\n== /g'
tar czf "$OUT/sampling.tgz" -C "$OUT" sampling && rm -rf "$out"
