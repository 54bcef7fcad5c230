#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried with a base build as devcarry/bin/sluice_base, e.g.
# DEVCARRY_EXTRA=/path/to/sluice_base scripts/device_bundle.sh): this build against the base on
# the MoE shapes' single stream; or BASE=sluice BASE_ENV="SWITCH=0": this build with a switch
# against itself without. The op table's CUDA matmul and MoE cases and CudaOps first (memcheck
# on the routed ones), then per shape (Qwen3-30B-A3B gguf-q4_k, gpt-oss-20b gguf-mxfp4;
# QWEN_LAYERS / GPTOSS_LAYERS, default 12 and 8): greedy base == this build (4 prompts batched;
# not --deterministic, whose steps fold no norms), ROUNDS (3) alternated single-stream runs,
# and one SLUICE_PROFILE table of each. OPS / MEMCHECK: other gtest filters for the op tests
# and the memcheck run. Detached; progress in /tmp/bab/progress:
#   setsid nohup bench/gpu/device_binaries_ab.sh >/tmp/bab.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
# sluice_base / sluice: the base (its binary, in BASE_ENV's environment) / this build
run_as() {
  local v=$1
  shift
  if [ "$v" = sluice_base ]; then env ${BASE_ENV:-} "$b/${BASE:-sluice_base}" "$@"; else "$b/sluice" "$@"; fi
}
out=/tmp/bab; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
$b/backend_tests --gtest_filter="${OPS:-Backends/OpTable.*/cuda_*matmul*:Backends/OpTable.*/cuda_*moe*:Backends/OpTable.*/cuda_*route*:CudaOps.*}" \
  --gtest_brief=1 >$out/ops.log 2>&1
log "op tests: exit $? $(grep -E '^\[  PASSED|FAILED  \]' $out/ops.log | head -5 | tr '\n' ' ')"
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="${MEMCHECK:-Backends/OpTable.*/cuda_*route*}" >$out/memcheck.txt 2>&1
log "memcheck: exit $? $(tail -1 $out/memcheck.txt)"
printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/pab.txt
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
mapfile -t specs < <(moe_cut_models)
for spec in "${specs[@]}"; do
  set -- $spec
  m34_model "$@"
  for bin in sluice_base sluice; do
    run_as $bin run -m $m --device cuda --prompts /tmp/pab.txt -n 32 --temp 0 --ignore-eos \
      >$out/greedy.$bin.txt 2>/dev/null
  done
  log "$2-l$4 greedy base vs this: $(texts $out/greedy.sluice_base.txt $out/greedy.sluice.txt)"
  for round in $(seq 1 "${ROUNDS:-3}"); do
    for bin in sluice_base sluice; do
      run_as $bin run -m $m --device cuda -p "$prompt" -n 256 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
      log "$2-l$4 round $round $bin: $(grep generation: $out/one.txt)"
    done
  done
  for bin in sluice_base sluice; do
    SLUICE_PROFILE=$out/profile.$2.$bin.txt run_as $bin run -m $m --device cuda -p "$prompt" -n 64 --temp 0 \
      --ignore-eos >/dev/null 2>&1
  done
done
log done
