#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: where a hybrid model's GPU time goes. Qwen3.5-9B
# shape (random weights, Q4_K): SLUICE_PROFILE tables of a 4096-token prompt with 64 outputs and
# of 8 x 512-token prompts with 128 outputs; the step speeds on stderr. Out: /tmp/hyp (progress).
#   setsid nohup bench/gpu/device_hybrid_profile.sh >/tmp/hyp.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/hyp && mkdir -p "$out" /tmp/sluice-models
m=/tmp/sluice-models/qwen3.5-9b-q4_k.gguf
[ -e $m ] || $b/sluice make-model --arch qwen35 --preset qwen3.5-9b --format gguf-q4_k \
  --tokenizer devcarry/tok/tokenizer.json -o $m >"$out/make.txt" 2>&1
echo "made $(date +%T)" >>"$out/progress"
python3 - >"$out/long.txt" <<'PY'
import random
rng = random.Random(1)
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
print(" ".join(rng.choice(words) for _ in range(4000)))
PY
python3 - >"$out/eight.txt" <<'PY'
import random
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for i in range(8):
    rng = random.Random(i)
    print(" ".join(rng.choice(words) for _ in range(500)))
PY
run=($b/sluice run -m $m --device cuda --ignore-eos --temp 0)
"${run[@]}" -p "$(cat $out/long.txt)" -n 64 2>"$out/long_speed.txt" >/dev/null
SLUICE_PROFILE=$out/profile_long.txt "${run[@]}" -p "$(cat $out/long.txt)" -n 64 \
  2>"$out/long_prof.txt" >/dev/null
"${run[@]}" --prompts $out/eight.txt --concurrency 8 -n 128 2>"$out/eight_speed.txt" >/dev/null
SLUICE_PROFILE=$out/profile_eight.txt "${run[@]}" --prompts $out/eight.txt --concurrency 8 \
  -n 128 2>/dev/null >/dev/null
echo "done $(date +%T)" >>"$out/progress"
