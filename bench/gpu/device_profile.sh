#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: where the GPU time of a model's steps goes.
# SLUICE_PROFILE tables (GPU time per op) of N sequences x 512-token prompts x 128 tokens
# (`sluice run --prompts`, llama-batched-bench's shape) and of one stream, then ncu on the
# decode steps' attention and quantized-GEMM kernels. Results in $OUT/profile.tgz.
#   MODEL=llama3-8b-q4_0 N=64 bench/gpu/device_profile.sh [VAR=VALUE ...]  (set for every run)
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/profile && mkdir -p "$out"
name=${MODEL:-llama3-8b-q4_0}
n=${N:-64}
for kv in "$@"; do export "${kv?}"; done
bench_model "$name" || exit 2
python3 - "$n" >/tmp/prompts.txt <<'EOF'
import random, sys
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for i in range(int(sys.argv[1])):
    rng = random.Random(i)
    print(" ".join(rng.choice(words) for _ in range(512)))
EOF
run=($b/sluice run -m "$model" --device cuda --ignore-eos --temp 0 --max-num-batched-tokens 4096)
SLUICE_PROFILE=$out/profile_batched.txt "${run[@]}" --prompts /tmp/prompts.txt \
  --concurrency "$n" -n 128 >/dev/null 2>"$out/batched.txt"
tail -1 "$out/batched.txt"; head -25 "$out/profile_batched.txt"
SLUICE_PROFILE=$out/profile_single.txt "${run[@]}" -p "The quick brown fox" -n 256 \
  >/dev/null 2>"$out/single.txt"
tail -1 "$out/single.txt"; head -25 "$out/profile_single.txt"
"${run[@]}" -p "The quick brown fox" -n 256 2>&1 >/dev/null | tail -1  # unprofiled
# Decode steps of the batched run: prefill is 8 steps of 4096 tokens, each 32 layers.
ncu_run() {  # ncu_run NAME KERNEL_REGEX SKIP COUNT
  timeout 240 ncu --clock-control none --kernel-name "regex:$2" --launch-skip "$3" \
    --launch-count "$4" --section SpeedOfLight --section Occupancy --section WarpStateStats \
    --section LaunchStats --section MemoryWorkloadAnalysis \
    "${run[@]}" --prompts /tmp/prompts.txt --concurrency "$n" -n 24 >"$out/ncu_$1.txt" 2>&1
  echo "ncu $1: exit $?"
  grep -E "^  [a-z_].*\(|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Block Limit|Waves Per SM|Grid Size" \
    "$out/ncu_$1.txt" | head -40
}
ncu_run attention tiled_attention 600 2
ncu_run qgemm qgemm 1800 4
tar czf "$OUT/profile.tgz" -C "$OUT" profile && rm -rf "$out"
