#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz): single-stream decode of the MoE shapes,
# sluice against llama-bench at the same context depth. llama-bench's tg runs from an empty
# context unless -d is given, while `sluice run` decodes after its prompt: a 513-token prompt
# against -d 512, and a one-word prompt against -d 0, ROUNDS (3) alternated rounds of 256 tokens.
# BIN: the sluice binary (devcarry/bin/sluice). QWEN_LAYERS / GPTOSS_LAYERS as
# device_binaries_ab.sh (12, 8). Detached; progress in /tmp/depth/progress:
#   setsid nohup bench/gpu/device_depth_peer.sh >/tmp/depth.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/depth; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
bin=${BIN:-$b/sluice}
[ -x /tmp/lc/build/bin/llama-bench ] || build_llama_cuda $out/llama_build.log llama-bench
log "llama.cpp build: exit $?"
long=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
mapfile -t specs < <(moe_cut_models)
for spec in "${specs[@]}"; do
  set -- $spec
  m34_model "$@"
  for round in $(seq 1 "${ROUNDS:-3}"); do
    for depth in 0 512; do
      prompt=hello
      [ $depth = 512 ] && prompt=$long
      $bin run -m $m --device cuda -p "$prompt" -n 256 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
      log "$2-l$4 round $round depth $depth sluice: $(grep -o 'prompt: [0-9]* tokens\|generation: .*tok/s' $out/one.txt | tr '\n' ' ')"
      /tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 0 -n 256 -d $depth -r 1 2>/dev/null | grep tg256 >$out/lb.txt
      log "$2-l$4 round $round depth $depth llama: $(tr -s ' ' <$out/lb.txt | cut -d'|' -f7,8)"
    done
  done
done
log done
