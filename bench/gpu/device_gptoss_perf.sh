#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz): gpt-oss-20b's shape (random weights, MXFP4
# experts, Q8_0 attention) on CUDA, sluice `run` against llama-bench on the same GGUF: prompt 512
# and decode 128, one stream. The baseline before native MXFP4 and device-side expert kernels.
# Detached; results under /tmp/pg (progress: progress).
#   setsid nohup bench/gpu/device_gptoss_perf.sh >/tmp/pg.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/pg && mkdir -p "$out"
log() { echo "$(date +%T) $*" >>"$out/progress"; }
build_llama_cuda "$out/llama_build.log" llama-bench
log "llama.cpp build: exit $?"
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
m=/tmp/pg/gpt-oss-20b-mxfp4.gguf
[ -e "$m" ] || $b/sluice make-model --arch gpt-oss --preset gpt-oss-20b --format gguf-mxfp4 \
  --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null 2>>"$out/make.log"
log "model: $(du -h "$m" | cut -f1)"
/tmp/lc/build/bin/llama-bench -m "$m" -ngl 99 -p 512 -n 128 -r 2 2>/dev/null \
  | grep -E "pp512|tg128" >"$out/llama.txt"
$b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos \
  >/dev/null 2>"$out/sluice.txt"
log "llama $(tr -s ' ' <"$out/llama.txt" | cut -d'|' -f7,8 | tr '\n' ' ') sluice $(grep prompt: "$out/sluice.txt")"
log done
