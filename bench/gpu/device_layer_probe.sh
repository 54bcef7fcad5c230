#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz, and devcarry/bin/sluice_probe built with
# docs/experiments/gpu/launch_skip_probe.patch): what each kernel of a Qwen3-30B-A3B decode layer
# costs inside the recorded step. The probe binary skips the launches SLUICE_PROBE_SKIP names
# (results wrong, time real); each skip's tok/s against the probe's own baseline, 256 tokens
# after a 513-token prompt. First the --deterministic check (serial == 64 concurrent, moe-small
# and the whole file), last ROUNDS (4) peer rounds against llama-bench -d 512.
# Detached; progress in /tmp/probe/progress:
#   setsid nohup bench/gpu/device_layer_probe.sh >/tmp/probe.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/probe; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
m=/tmp/m34/qwen3-30b-a3b.gguf small=/tmp/m34/moe-small-q4_k.gguf
pids=()
if [ ! -x /tmp/lc/build/bin/llama-bench ]; then
  (build_llama_cuda $out/llama_build.log llama-bench; log "llama.cpp build: exit $?") &
  pids+=($!)
fi
[ -e $m ] || ($b/sluice make-model --arch qwen3moe --preset qwen3-30b-a3b --format gguf-q4_k \
  --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1; log "made $m: exit $?") &
pids+=($!)
$b/sluice make-model --arch qwen3moe --preset moe-small --format gguf-q4_k \
  --tokenizer devcarry/tok/tokenizer.json -o $small >/dev/null 2>&1
log "made $small: exit $?"
write_prompts64
for f in $small WAIT $m; do
  [ $f = WAIT ] && { wait "${pids[@]}"; continue; }
  tag=$(basename $f .gguf)
  for c in 1 64; do
    $b/sluice run -m $f --device cuda --prompts /tmp/prompts64.txt --concurrency $c -n 128 \
      --ignore-eos --temp 0 --deterministic >$out/det.$tag.c$c.jsonl 2>$out/det.$tag.c$c.err
  done
  log "$tag --deterministic serial vs c=64: $(texts $out/det.$tag.c1.jsonl $out/det.$tag.c64.jsonl)"
done
long=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
one() {  # BIN SKIP -> tok/s
  SLUICE_PROBE_SKIP=$2 $1 run -m $m --device cuda -p "$long" -n 256 --temp 0 --ignore-eos \
    2>&1 >/dev/null | grep -o 'generation: .*tok/s'
}
skips="matmul_act16_kernel@128 matmul_act16_kernel@1152 matmul_act16_kernel@512
  prepare_qkv_kernel tiled_attention_kernel matmul_rows_kernel@32 quantize_act16_kernel@16
  quantize_act16_kernel@9 quantize_act16_kernel@24 quantize_act16_kernel@8 experts_act16_kernel@3072
  experts_act16_kernel@4096 moe_combine_kernel"
for pass in 1 2; do
  log "probe pass $pass baseline: $(one $b/sluice_probe '')"
  for s in $skips; do log "probe pass $pass skip $s: $(one $b/sluice_probe $s)"; done
  log "probe pass $pass baseline again: $(one $b/sluice_probe '')"
done
for round in $(seq 1 "${ROUNDS:-4}"); do
  llama() {
    log "round $round llama depth 512: $(/tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 0 -n 256 \
      -d 512 -r 1 2>/dev/null | grep tg256 | tr -s ' ' | cut -d'|' -f7,8)"
  }
  [ $((round % 2)) = 0 ] && llama
  log "round $round sluice depth 512: $(one $b/sluice '')"
  [ $((round % 2)) = 1 ] && llama
done
log done
