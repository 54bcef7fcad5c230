#!/usr/bin/env bash
# On the GPU machine after device_depth_peer.sh (its llama.cpp build): the whole 48-layer
# Qwen3-30B-A3B shape (Q4_K_M, random weights; ~4 minutes to make on 16 cores): 64 concurrent
# (sluice's wall against llama-batched-bench's), then ROUNDS (1) rounds of single stream at
# depth 512 against llama-bench -d 512. BIN as there; VARIANTS: environments to run sluice in,
# alternated in each round (e.g. "SLUICE_CUDA_DECODE_CLUSTER=0 SLUICE_CUDA_DECODE_CLUSTER=1";
# default: one, as it is). Detached; progress in /tmp/full/progress:
#   setsid nohup bench/gpu/device_full_qwen3_peer.sh >/tmp/full.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/full; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
bin=${BIN:-$b/sluice}
m=/tmp/m34/qwen3-30b-a3b.gguf
[ -e $m ] || $b/sluice make-model --arch qwen3moe --preset qwen3-30b-a3b --format gguf-q4_k \
  --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
log "made $(du -h $m | cut -f1)"
variants=${VARIANTS:-SLUICE_UNUSED=0}
write_prompts64
for v in $variants; do
  log "sluice c=64 ($v): $(env $v $bin run -m $m --device cuda --prompts /tmp/prompts64.txt \
    --concurrency 64 -n 128 --ignore-eos --temp 0 2>&1 >/dev/null | grep requests:)"
done
/tmp/lc/build/bin/llama-batched-bench -m $m -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 \
  -npl 64 >$out/lbb.txt 2>&1
log "llama-batched-bench: $(grep -E '^\|\s+128' $out/lbb.txt | tr -s ' ')"
long=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for round in $(seq 1 "${ROUNDS:-1}"); do
  for v in $variants; do
    env $v $bin run -m $m --device cuda -p "$long" -n 256 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
    log "round $round sluice depth 512 ($v): $(grep -o 'generation: .*tok/s' $out/one.txt)"
  done
  log "round $round llama depth 512: $(/tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 0 -n 256 -d 512 -r 1 2>/dev/null | grep tg256 | tr -s ' ' | cut -d'|' -f7,8)"
done
log done
