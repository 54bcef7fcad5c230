#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz): whole MoE files (random weights), sluice
# against llama.cpp's CUDA build. FULL: which files (default "qwen3": Qwen3-30B-A3B Q4_K_M, 48
# layers, ~4 minutes to make on 16 cores; "gptoss": gpt-oss-20b MXFP4, 24 layers). llama.cpp is
# built (if not there) while the files are made. Per file: 64 concurrent (sluice's wall against
# llama-batched-bench's), then ROUNDS (1) rounds of single stream at depth 512 (a 513-token
# prompt against llama-bench -d 512), llama.cpp first in even rounds; the 64 greedy texts of
# each variant are compared with the first's. BIN: the sluice binary;
# VARIANTS: environments to run sluice in, alternated in each round (e.g.
# "SLUICE_CUDA_DECODE_CLUSTER=0 SLUICE_CUDA_DECODE_CLUSTER=1"; default: one, as it is).
# Detached; progress in /tmp/full/progress:
#   setsid nohup bench/gpu/device_full_peer.sh >/tmp/full.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/full; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
bin=${BIN:-$b/sluice}
full_model() {  # NAME -> m, and the make-model arguments of that file
  case $1 in
    qwen3) m=/tmp/m34/qwen3-30b-a3b.gguf spec="qwen3moe qwen3-30b-a3b gguf-q4_k" ;;
    gptoss) m=/tmp/m34/gpt-oss-20b.gguf spec="gpt-oss gpt-oss-20b gguf-mxfp4" ;;
    *) echo "unknown file $1" >&2; return 2 ;;
  esac
}
pids=()
if [ ! -x /tmp/lc/build/bin/llama-batched-bench ]; then
  (build_llama_cuda $out/llama_build.log llama-bench llama-batched-bench; log "llama.cpp build: exit $?") &
  pids+=($!)
fi
for name in ${FULL:-qwen3}; do
  full_model $name || exit 2
  set -- $spec
  [ -e $m ] || ($b/sluice make-model --arch $1 --preset $2 --format $3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1; log "made $m: exit $?") &
  pids+=($!)
done
wait "${pids[@]}"
variants=${VARIANTS:-SLUICE_UNUSED=0}
write_prompts64
long=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
llama_d512() {
  log "$name round $round llama depth 512: $(/tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 0 -n 256 \
    -d 512 -r 1 2>/dev/null | grep tg256 | tr -s ' ' | cut -d'|' -f7,8)"
}
for name in ${FULL:-qwen3}; do
  full_model $name
  for v in $variants; do
    log "$name sluice c=64 ($v): $(env $v $bin run -m $m --device cuda --prompts /tmp/prompts64.txt \
      --concurrency 64 -n 128 --ignore-eos --temp 0 2>&1 >$out/c64.$name.$v.jsonl | grep requests:)"
    log "$name c=64 texts ($v against the first): $(texts $out/c64.$name.${variants%% *}.jsonl \
      $out/c64.$name.$v.jsonl)"
  done
  /tmp/lc/build/bin/llama-batched-bench -m $m -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 \
    -npl 64 >$out/lbb.$name.txt 2>&1
  log "$name llama-batched-bench: $(grep -E '^\|\s+128' $out/lbb.$name.txt | tr -s ' ')"
  for round in $(seq 1 "${ROUNDS:-1}"); do
    [ $((round % 2)) = 0 ] && llama_d512
    for v in $variants; do
      env $v $bin run -m $m --device cuda -p "$long" -n 256 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
      log "$name round $round sluice depth 512 ($v): $(grep -o 'generation: .*tok/s' $out/one.txt)"
    done
    [ $((round % 2)) = 1 ] && llama_d512
  done
done
log done
