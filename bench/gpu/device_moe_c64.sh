#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried): where a 64-concurrent MoE decode step's time goes. An
# L-layer gpt-oss-20b shape (MXFP4; per-layer costs as in the full model): c=64 throughput at each
# SLUICE_CUDA_MOE_GEMM_SLOTS in SLOTS, then ncu by kernel over steps of the c=64 run and ncu's
# speed-of-light sections for the expert GEMM kernels. Results in /tmp/mc (summary.txt). BASE=1:
# the c=64 runs also with devcarry/base.tgz's sluice (A/B, alternated).
#   LAYERS=8 SLOTS="1 0 4" bench/gpu/device_moe_c64.sh
source "$(dirname "$0")/device_env.sh"
out=/tmp/mc && mkdir -p "$out" /tmp/md
layers=${LAYERS:-8}
m=/tmp/md/gpt-oss-20b-l$layers.gguf
[ -e "$m" ] || $b/sluice make-model --arch gpt-oss --preset gpt-oss-20b --format gguf-mxfp4 \
  --layers $layers --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
write_prompts64  # /tmp/prompts64.txt
run64=($b/sluice run -m "$m" --device cuda --prompts /tmp/prompts64.txt --concurrency 64 -n 128
  --ignore-eos --temp 0)
if [ "${BASE:-0}" = 1 ]; then
  mkdir -p /tmp/base && tar xzf devcarry/base.tgz -C /tmp/base
  for round in 1 2; do
    for bin in /tmp/base/devcarry/bin/sluice $b/sluice; do
      echo "round $round $bin: $("$bin" "${run64[@]:1}" 2>&1 >/dev/null | grep requests:)" \
        >>"$out/summary.txt"
    done
  done
fi
for slots in ${SLOTS:-1 0}; do
  echo "slots $slots: $(SLUICE_CUDA_MOE_GEMM_SLOTS=$slots "${run64[@]}" 2>&1 >/dev/null |
    grep requests:)" >>"$out/summary.txt"
done
timeout 240 ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum --csv \
  --log-file "$out/ncu.csv" --launch-skip 4000 --launch-count $((30 * layers * 4)) "${run64[@]}" \
  >/dev/null 2>"$out/ncu.err"
python3 bench/gpu/ncu_summary.py "$out/ncu.csv" 25 >>"$out/summary.txt"
timeout 240 ncu --clock-control none --kernel-name regex:experts --launch-skip 200 --launch-count 4 \
  --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
  "${run64[@]}" >"$out/ncu_experts.txt" 2>&1
echo done >>"$out/summary.txt"
