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
python3 - "$out/ncu.csv" <<'PY' | tee "$out/summary.txt"
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]; rows = rows[1:]
ki, vi, ui = head.index("Kernel Name"), head.index("Metric Value"), head.index("Metric Unit")
tot = collections.defaultdict(float); cnt = collections.Counter()
for r in rows:
    v = float(r[vi].replace(",", ""))
    v *= {"ns": 1e-3, "nsecond": 1e-3, "ms": 1e3, "msecond": 1e3}.get(r[ui], 1.0)  # -> us
    k = r[ki].split("(")[0][:90]
    tot[k] += v; cnt[k] += 1
all_us = sum(tot.values())
print(f"{len(rows)} kernels, {all_us:.1f} us in all")
for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"{v:10.1f} us {cnt[k]:6d} x {v / cnt[k]:7.2f} us  {k}")
PY
tar czf "$OUT/step_kernels.tgz" -C "$OUT" step_kernels && rm -rf "$out"
