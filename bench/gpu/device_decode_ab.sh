#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): the CUDA op tests,
# memcheck on the tests named by MEMCHECK (a gtest filter; none when empty), then single-stream
# decode (ab_decode.py) of MODELS with the build as built and under each NAME=VAR=VALUE[,...]
# variant, alternated over ROUNDS rounds (default 2). Results in $OUT/decode_ab.tgz.
#   MEMCHECK='Backends/OpTable.*/cuda_rms_norm*' bench/gpu/device_decode_ab.sh llama3-8b-q4_0 nofold=SLUICE_CUDA_FOLD_NORMS=0
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/decode_ab && mkdir -p "$out"
models=$1
shift
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
$b/backend_tests --gtest_filter='Cuda*:Backends/OpTable.*/cuda_*' --gtest_brief=1 >"$out/ops.txt" 2>&1
echo "op tests: exit $?"; grep -E "FAILED|Failure|PASSED" "$out/ops.txt" | head -20
if [ -n "${MEMCHECK:-}" ]; then
  compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$MEMCHECK" >"$out/memcheck.txt" 2>&1
  echo "memcheck: exit $?"; tail -2 "$out/memcheck.txt"
fi
variants=(--variant "as_built=$b/sluice")
for v in "$@"; do variants+=(--variant "${v%%=*}=$b/sluice:${v#*=}"); done
python3 bench/gpu/ab_decode.py --tokenizer devcarry/tok/tokenizer.json --out "$out" \
  --models-dir /tmp/sluice-models --only "$models" --rounds "${ROUNDS:-2}" "${variants[@]}" 2>&1 | tail -12
tar czf "$OUT/decode_ab.tgz" -C "$OUT" decode_ab && rm -rf "$out"
