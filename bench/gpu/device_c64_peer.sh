#!/usr/bin/env bash
# On the GPU machine after device_depth_peer.sh (its llama.cpp build and models): 64 concurrent
# requests of ~128 + 128 tokens, `sluice run --concurrency 64` against llama-batched-bench
# -npl 64 on the same files, ROUNDS (2) alternated rounds. Both end-to-end walls (prompts and
# generation) and llama-batched-bench's generation phase alone are logged. BIN as there.
# Detached; progress in /tmp/c64/progress:
#   setsid nohup bench/gpu/device_c64_peer.sh >/tmp/c64.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/c64; mkdir -p $out
log() { echo "$(date +%T) $*" >>"$out/progress"; }
bin=${BIN:-$b/sluice}
[ -x /tmp/lc/build/bin/llama-batched-bench ] ||
  cmake --build /tmp/lc/build -j"$(nproc)" --target llama-batched-bench >$out/build.log 2>&1
write_prompts64  # /tmp/prompts64.txt
for m in /tmp/m34/qwen3-30b-a3b-l${QWEN_LAYERS:-12}.gguf /tmp/m34/gpt-oss-20b-l${GPTOSS_LAYERS:-8}.gguf; do
  name=$(basename $m .gguf)
  for round in $(seq 1 "${ROUNDS:-2}"); do
    log "$name round $round sluice: $($bin run -m $m --device cuda --prompts /tmp/prompts64.txt \
      --concurrency 64 -n 128 --ignore-eos --temp 0 2>&1 >/dev/null | grep requests:)"
    /tmp/lc/build/bin/llama-batched-bench -m $m -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 \
      -npl 64 >$out/lbb.txt 2>&1
    log "$name round $round llama-batched-bench: $(grep -E '^\|\s+128' $out/lbb.txt | tr -s ' ')"
  done
done
log done
