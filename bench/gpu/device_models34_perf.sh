#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz): single stream of issue 34's families on CUDA,
# sluice against llama-bench on the same GGUF files (random weights): the Qwen3-30B-A3B shape
# (Q4_K_M), the small MoE shape (Q4_0) and the Gemma 3 1B shape (Q4_K_M). One round; the
# baseline for the CUDA expert kernels. Detached; results under /tmp/p34 (progress: progress).
#   setsid nohup bench/gpu/device_models34_perf.sh >/tmp/p34.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/p34 && mkdir -p "$out"
log() { echo "$(date +%T) $*" >>"$out/progress"; }
build_llama_cuda "$out/llama_build.log" llama-bench
log "llama.cpp build: exit $?"
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
mkdir -p /tmp/m34
for spec in "qwen3moe moe-small q4_0" "gemma3 gemma3-1b q4_k" "qwen3moe qwen3-30b-a3b q4_k"; do
  set -- $spec
  m=/tmp/m34/$2-$3.gguf
  [ -e "$m" ] || $b/sluice make-model --arch $1 --preset $2 --format gguf-$3 \
    --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null 2>>"$out/make.log"
  /tmp/lc/build/bin/llama-bench -m "$m" -ngl 99 -p 512 -n 128 -r 2 2>/dev/null \
    | grep -E "pp512|tg128" >"$out/llama_$2.txt"
  $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos \
    >/dev/null 2>"$out/sluice_$2.txt"
  log "$spec: llama $(tr -s ' ' <"$out/llama_$2.txt" | cut -d'|' -f7,8 | tr '\n' ' ') sluice $(grep prompt: "$out/sluice_$2.txt")"
done
log done
