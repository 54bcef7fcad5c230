#!/usr/bin/env bash
# On the GPU machine (devcarry/ from scripts/device_bundle.sh, plus devcarry/llama_src.tgz from
# bench/peers/build_llama_cpp.sh --trim): builds llama.cpp with CUDA from that source, then on the
# same GGUF files (Llama-3-8B shape, random weights: F16, Q4_0, Q4_K) runs llama-bench
# (pp512, tg128), llama-batched-bench (128/128 at 1, 16, 64) and sluice's single-stream decode
# and 512-token prefill (`sluice run`), alternated twice. Detached; results under /tmp/peers.
#   setsid nohup bench/gpu/device_peers.sh >/tmp/peers.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/peers && mkdir -p "$out"
log() { echo "$(date +%T) $*" >>"$out/progress"; }
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
t0=$(date +%s)
build_llama_cuda "$out/llama_build.log" llama-bench llama-batched-bench llama-server
log "llama.cpp build: exit $? in $(( $(date +%s) - t0 )) s"
lb=/tmp/lc/build/bin
mkdir -p /tmp/sluice-models
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for fmt in q4_0 q4_k f16; do
  m=/tmp/sluice-models/llama3-8b-$fmt.gguf
  [ -e "$m" ] || $b/sluice make-model --arch llama --preset llama3-8b --format gguf-$fmt \
    --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null
  log "model $fmt: $(du -h "$m" | cut -f1)"
  for round in 1 2; do
    $lb/llama-bench -m "$m" -ngl 99 -p 512 -n 128 -r 3 -o json >"$out/llama_bench_${fmt}_$round.json" 2>>"$out/llama_bench.err"
    log "llama-bench $fmt round $round: exit $?"
    $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos \
      >/dev/null 2>"$out/sluice_run_${fmt}_$round.txt"
    log "sluice run $fmt round $round: exit $?"
  done
  $lb/llama-batched-bench -m "$m" -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 -npl 1,16,64 \
    >"$out/llama_batched_$fmt.txt" 2>&1
  log "llama-batched-bench $fmt: exit $?"
done
log done
