#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): where a repeated request's
# time goes on the Gemma 3 4B shape (Q4_K text + F16 tower, served on CUDA with SLUICE_PROFILE):
# one text prompt of ~270 tokens sent once, then REPEATS times (streamed, client TTFT as
# bench/gpu/vision_requests.py measures it), then the same for a 640 px picture. The server's
# profile (api parse / handler / submit->first token, the steps by token count) is written to
# $OUT/repeat_profile_{text,image}.txt, the client's TTFTs to $OUT/repeat_ttft.txt.
source "$(dirname "$0")/device_env.sh"
vlm4b  # w, v, tpl; /tmp/vlm/4b.gguf and its mmproj
for kind in text image; do
  rm -f $w/profile.txt
  SLUICE_PROFILE=$w/profile.txt $b/sluice serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf \
    --chat-template $tpl --port 8306 --device cuda >$w/serve-8306.log 2>&1 &
  pid=$!
  for _ in $(seq 240); do curl -sf localhost:8306/health >/dev/null && break; sleep 0.5; done
  (cd bench/gpu && python3 - "$kind" "${REPEATS:-40}" <<'PY'
import base64, statistics, sys
from vision_requests import ask, png
kind, repeats = sys.argv[1], int(sys.argv[2])
url = "http://localhost:8306"
if kind == "image":
    data = "data:image/png;base64," + base64.b64encode(png(7, 640)).decode()
    msgs = [{"role": "user", "content": [{"type": "text", "text": "Describe this."},
                                         {"type": "image_url", "image_url": {"url": data}}]}]
else:
    msgs = [{"role": "user", "content": "word " * 258}]
first = ask(url, msgs, max_tokens=2)
ts = [ask(url, msgs, max_tokens=2)["ttft_ms"] for _ in range(repeats)]
print(f"{kind}: prompt {first['usage']['prompt_tokens']} tokens, first {first['ttft_ms']:.1f} ms, "
      f"repeated median {statistics.median(ts):.2f} ms, min {min(ts):.2f} ms")
PY
  ) >>$OUT/repeat_ttft.txt 2>&1
  kill -INT $pid
  wait $pid 2>/dev/null
  cp $w/profile.txt $OUT/repeat_profile_$kind.txt
done
