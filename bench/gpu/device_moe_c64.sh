#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried): where a 64-concurrent MoE decode step's time goes. An
# L-layer MODEL shape (gpt-oss-20b MXFP4, or qwen3-30b-a3b Q4_K_M; per-layer costs as in the full
# model): c=64 throughput for each SLUICE_CUDA_EXPERT_PREFETCH in VARIANTS (alternated ROUNDS
# times), then ncu by kernel over steps of the c=64 run and ncu's speed-of-light sections for the
# expert GEMM kernels, per variant in NCU (default VARIANTS). Results in /tmp/mc (summary.txt). BASE=1: the c=64 runs also
# with devcarry/base.tgz's sluice (A/B, alternated).
#   MODEL=qwen3-30b-a3b LAYERS=8 VARIANTS="0 6 8" bench/gpu/device_moe_c64.sh
source "$(dirname "$0")/device_env.sh"
out=/tmp/mc && mkdir -p "$out" /tmp/md
layers=${LAYERS:-8} model=${MODEL:-gpt-oss-20b}
case $model in
  gpt-oss-20b) spec="gpt-oss gpt-oss-20b gguf-mxfp4" ;;
  qwen3-30b-a3b) spec="qwen3moe qwen3-30b-a3b gguf-q4_k" ;;
  *) echo "unknown model $model" >>"$out/summary.txt"; exit 2 ;;
esac
set -- $spec
m=/tmp/md/$model-l$layers.gguf
[ -e "$m" ] || $b/sluice make-model --arch $1 --preset $2 --format $3 --layers $layers \
  --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
write_prompts64  # /tmp/prompts64.txt
run64=($b/sluice run -m "$m" --device cuda --prompts /tmp/prompts64.txt --concurrency 64 -n 128
  --ignore-eos --temp 0)
rate() { "$@" 2>/tmp/mc/rate.err >/dev/null; grep requests: /tmp/mc/rate.err | grep -o "[0-9.]* tok/s"; }
if [ "${BASE:-0}" = 1 ]; then
  mkdir -p /tmp/base && tar xzf devcarry/base.tgz -C /tmp/base
fi
variants=${VARIANTS:-0}
for round in $(seq ${ROUNDS:-2}); do
  [ "${BASE:-0}" = 1 ] && echo "round $round base: $(rate /tmp/base/devcarry/bin/sluice "${run64[@]:1}")" >>"$out/summary.txt"
  for v in $variants; do
    echo "round $round expert_prefetch $v: $(SLUICE_CUDA_EXPERT_PREFETCH=$v rate "${run64[@]}")" >>"$out/summary.txt"
  done
done
for v in ${NCU-$variants}; do
  export SLUICE_CUDA_EXPERT_PREFETCH=$v
  timeout 240 ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum --csv \
    --log-file "$out/ncu_$v.csv" --launch-skip 4000 --launch-count $((30 * layers * 4)) "${run64[@]}" \
    >/dev/null 2>"$out/ncu.err"
  echo "expert_prefetch $v:" >>"$out/summary.txt"
  python3 bench/gpu/ncu_summary.py "$out/ncu_$v.csv" 25 >>"$out/summary.txt"
  timeout 240 ncu --clock-control none --kernel-name regex:experts --launch-skip 200 --launch-count 4 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
    "${run64[@]}" >"$out/ncu_experts_$v.txt" 2>&1
done
echo done >>"$out/summary.txt"
