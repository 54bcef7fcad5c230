#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): what a repeated picture
# costs on the Gemma 3 4B shape (Q4_K text + F16 tower) served on CUDA: the repeated image
# request against a repeated text request of the same length (bench/gpu/repeat_cost.py), with
# SLUICE_PROFILE's op times for the text repeats. Out: stdout, $OUT/repeat_profile.txt.
source "$(dirname "$0")/device_env.sh"
w=/tmp/vlm && mkdir -p $w
v=devcarry/tok/gemma3-vocab.gguf
tpl=tests/data/templates/gemma3_vision_test.jinja
[ -e $w/4b.gguf ] || $b/sluice make-model --arch gemma3 --preset gemma3-4b --tokenizer $v \
  --format gguf-q4_k --vision gemma3-4b --mmproj $w/4b-mmproj.gguf -o $w/4b.gguf 2>&1 | tail -1
for profile in "" "${OUT:-/tmp}/repeat_profile.txt"; do
  SLUICE_PROFILE=$profile $b/sluice serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf \
    --chat-template $tpl --port 8305 --device cuda >$w/serve-8305.log 2>&1 &
  pid=$!
  for _ in $(seq 240); do curl -sf localhost:8305/health >/dev/null && break; sleep 0.5; done
  echo "== profile: ${profile:-off}"
  sizes="640 1280"; [ -n "$profile" ] && sizes=640
  for px in $sizes; do python3 bench/gpu/repeat_cost.py http://localhost:8305 --size $px; done
  kill $pid; wait $pid 2>/dev/null
done
