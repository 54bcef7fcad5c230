#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: every kernel of a few single-stream decode steps
# (recorded steps replayed, caches as the step leaves them) timed alone by ncu, summed by
# kernel name: where a decode step's GPU time goes. Results in $OUT/step_kernels.tgz.
#   MODEL=llama3-8b-q4_0 bench/gpu/device_step_kernels.sh [SKIP] [COUNT]
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/step_kernels && mkdir -p "$out"
name=${MODEL:-llama3-8b-q4_0}
bench_model "$name" || exit 2
skip=${1:-3000} count=${2:-1200}
timeout 400 ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum --csv \
  --launch-skip "$skip" --launch-count "$count" \
  $b/sluice run -m "$model" --device cuda --ignore-eos --temp 0 -p "The quick brown fox" -n 64 \
  >"$out/ncu.csv" 2>"$out/ncu.err"
echo "ncu: exit $?"
python3 bench/gpu/ncu_summary.py "$out/ncu.csv" | tee "$out/summary.txt"
tar czf "$OUT/step_kernels.tgz" -C "$OUT" step_kernels && rm -rf "$out"
