#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried): where Q6G16 (SLUICE_CUDA_SIX_BIT=1) gains and loses
# against Q8G16 on the Qwen3-30B-A3B shape (12 layers, gguf-q4_k): SLUICE_PROFILE op tables of a
# 513-token prefill with 64 generated, and of 64 concurrent requests, for each switch value.
# Detached; tables in /tmp/q6p/:
#   setsid nohup bench/gpu/device_six_bit_profile.sh >/tmp/q6p.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/q6p; mkdir -p $out
log() { echo "$(date +%T) $*" >>"$out/progress"; }
bench_model qwen3-30b-a3b-l12 || exit 2
m=$model
log "made $m"
write_prompts64
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for v in 0 1; do
  SLUICE_CUDA_SIX_BIT=$v $b/sluice run -m $m --device cuda -p "$prompt" -n 64 --temp 0 --ignore-eos >/dev/null 2>$out/one.$v.txt
  SLUICE_PROFILE=$out/single.$v.txt SLUICE_CUDA_SIX_BIT=$v $b/sluice run -m $m --device cuda -p "$prompt" -n 64 \
    --temp 0 --ignore-eos >/dev/null 2>>$out/one.$v.txt
  log "single six_bit $v: $(grep generation: $out/one.$v.txt | tr '\n' ' ')"
  SLUICE_PROFILE=$out/c64.$v.txt SLUICE_CUDA_SIX_BIT=$v $b/sluice run -m $m --device cuda --prompts /tmp/prompts64.txt \
    --concurrency 64 -n 128 --ignore-eos --temp 0 >/dev/null 2>$out/c64log.$v.txt
  log "c64 six_bit $v: $(grep requests: $out/c64log.$v.txt)"
done
log done
