#!/usr/bin/env bash
# Issue 36 on the H100: the hybrid agent-session bench (bench/hybrid/agent_session.py), sluice vs
# llama-server on one Qwen3.5-9B-shaped Q4_K file (random weights), --device cuda, two rounds with
# the order alternated; then one sluice-only round under SLUICE_PROFILE (where the time goes).
# Needs devcarry/ from scripts/device_bundle.sh plus devcarry/llama_src.tgz from
# bench/peers/build_llama_cpp.sh --trim (carry: devcarry). Results under /tmp/hybrid
# (progress: /tmp/hybrid/progress). Detached, since the llama.cpp build and the model take minutes:
#   setsid nohup bench/gpu/device_hybrid.sh [BENCH ARGS...] >/tmp/hybrid.log 2>&1 &
# and in a later call: tar czf $OUT/hybrid.tgz -C /tmp hybrid hybrid.log
source "$(dirname "$0")/device_env.sh"
out=/tmp/hybrid && mkdir -p "$out"
log() { echo "$(date +%T) $*" >>"$out/progress"; }
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
python3 -c 'import aiohttp, numpy, psutil' 2>>"$out/progress" || log "missing Python packages (see above)"
t0=$(date +%s)
build_llama_cuda "$out/llama_build.log" llama-server
log "llama.cpp build: exit $? in $(( $(date +%s) - t0 )) s"
m=/tmp/sluice-models/qwen3.5-9b-q4_k.gguf
mkdir -p /tmp/sluice-models
t0=$(date +%s)
[ -e "$m" ] || $b/sluice make-model --arch qwen35 --preset qwen3.5-9b --format gguf-q4_k --seed 1 \
  --tokenizer devcarry/tok/tokenizer.json -o "$m" >"$out/make_model.log" 2>&1
log "model: $(du -h "$m" | cut -f1) in $(( $(date +%s) - t0 )) s"
python3 -m bench.hybrid.agent_session --model "$m" --device cuda --sluice-bin $b/sluice \
  --llama-server /tmp/lc/build/bin/llama-server --cold-runs 2 --out "$out" "$@" \
  >"$out/bench.txt" 2>"$out/bench.err"
log "bench: exit $?"
SLUICE_PROFILE=$out/profile.txt python3 -m bench.hybrid.agent_session --model "$m" --device cuda \
  --sluice-bin $b/sluice --servers sluice --rounds 1 --cold-runs 0 --out "$out/profiled" "$@" \
  >"$out/profiled.txt" 2>&1
log "profiled sluice round: exit $?"
log done
