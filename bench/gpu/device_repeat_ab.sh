#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh) and a base build's pack at
# devcarry/base.tgz: the Gemma 3 4B shape's repeated-image TTFT (vision_requests.py, as in
# device_vision_checks.sh step 4) and repeat_cost.py, base then this build, in one run.
source "$(dirname "$0")/device_env.sh"
mkdir -p /tmp/base && tar xzf devcarry/base.tgz -C /tmp/base
vlm4b  # w, v, tpl; /tmp/vlm/4b.gguf and its mmproj
for build in base this; do
  bin=$b/sluice
  [ $build = base ] && bin=/tmp/base/devcarry/bin/sluice
  $bin serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf --chat-template $tpl --port 8306 \
    --device cuda >$w/serve-$build.log 2>&1 &
  pid=$!
  for _ in $(seq 240); do curl -sf localhost:8306/health >/dev/null && break; sleep 0.5; done
  for px in 640 1280; do
    python3 bench/gpu/vision_requests.py http://localhost:8306 $w/r.json --images 5 --repeats 3 \
      --turns --size $px --system-words 0 >/dev/null
    python3 -c "
import json, statistics as st
r = json.load(open('$w/r.json'))[4:]  # the first image warms the server up
cold = [x['ttft_ms'] for x in r if x['repeat'] == 0]
hot = [x['ttft_ms'] for x in r if x['repeat'] in (1, 2)]
turn = [x['ttft_ms'] for x in r if x['repeat'] == 'turn']
print(f'$build $px px: first {st.median(cold):.1f} ms, repeated {st.median(hot):.1f} ms '
      f'({st.median(cold) / st.median(hot):.1f}x), next turn {st.median(turn):.1f} ms '
      f'({st.median(cold) / st.median(turn):.1f}x)')"
  done
  python3 bench/gpu/repeat_cost.py http://localhost:8306 --size 640 | sed "s/^/$build /"
  kill $pid
  wait $pid 2>/dev/null
done
