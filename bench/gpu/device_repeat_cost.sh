#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): what a repeated picture
# costs on the Gemma 3 4B shape (Q4_K text + F16 tower) served on CUDA: the repeated image
# request against a repeated text request of the same length, and that text request carrying the
# picture's bytes in an unused field (bench/gpu/repeat_cost.py). Out: stdout.
source "$(dirname "$0")/device_env.sh"
vlm4b  # w, v, tpl; /tmp/vlm/4b.gguf and its mmproj
$b/sluice serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf --chat-template $tpl --port 8305 \
  --device cuda >$w/serve-8305.log 2>&1 &
pid=$!
for _ in $(seq 240); do curl -sf localhost:8305/health >/dev/null && break; sleep 0.5; done
for px in 640 1280; do python3 bench/gpu/repeat_cost.py http://localhost:8305 --size $px; done
kill $pid
wait $pid 2>/dev/null
