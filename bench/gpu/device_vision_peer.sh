#!/usr/bin/env bash
# Issue 37 on the GPU machine: TTFT of image requests, sluice vs llama.cpp's llama-server (with
# --mmproj) on the same Gemma 3 4B-shaped files (random weights: Q4_K text, F16 tower), same
# requests (bench/gpu/vision_requests.py: first time, two repeats, one more turn; 640 and 1280
# px), the order alternated over two rounds. Needs devcarry/ (scripts/device_bundle.sh) and
# devcarry/llama_src.tgz (bench/peers/build_llama_cpp.sh --trim). Detached:
#   setsid nohup bash bench/gpu/device_vision_peer.sh >/tmp/vpeer.log 2>&1 &
# Results: /tmp/vpeer (progress: /tmp/vpeer/progress; table: /tmp/vpeer/table.txt).
source "$(dirname "$0")/device_env.sh"
out=/tmp/vpeer && mkdir -p "$out" && w=/tmp/vlm && mkdir -p $w
log() { echo "$(date +%T) $*" >>"$out/progress"; }
nvidia-smi --query-gpu=name --format=csv,noheader >"$out/gpu.txt"
t0=$(date +%s)
build_llama_cuda "$out/llama_build.log" llama-server
log "llama.cpp build: exit $? in $(( $(date +%s) - t0 )) s"
v=devcarry/tok/gemma3-vocab.gguf tpl=tests/data/templates/gemma3_vision_test.jinja
[ -e $w/4b.gguf ] || $b/sluice make-model --arch gemma3 --preset gemma3-4b --tokenizer $v \
  --format gguf-q4_k --vision gemma3-4b --mmproj $w/4b-mmproj.gguf -o $w/4b.gguf >/dev/null 2>&1
log "models made"
wait_up() { for _ in $(seq 600); do curl -sf localhost:$1/health >/dev/null && return 0; sleep 0.5; done; return 1; }
run() {  # run NAME ROUND PORT: one server's requests (a port per run: no waiting for a socket)
  local port=$3
  if [ "$1" = sluice ]; then
    $b/sluice serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf --chat-template $tpl --port $port \
      --device cuda >$out/$1-$2.log 2>&1 &
  else
    /tmp/lc/build/bin/llama-server -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf --jinja \
      --chat-template-file $tpl -ngl 99 --port $port -c 32768 -np 8 >$out/$1-$2.log 2>&1 &
  fi
  local pid=$!
  wait_up $port || { log "$1 did not start"; kill $pid; return; }
  for size in 640 1280; do
    python3 bench/gpu/vision_requests.py http://localhost:$port $out/$1-$2-$size.json --images 5 \
      --repeats 3 --turns --size $size >$out/$1-$2-$size.txt 2>&1 || log "$1 $size: requests failed"
  done
  for c in 1 8; do  # encoder throughput: 32 pictures never seen, c requests in flight
    python3 bench/gpu/vision_requests.py http://localhost:$port $out/$1-$2-tput$c.json \
      --throughput 32 --concurrency $c --size 640 >$out/$1-$2-tput$c.txt 2>&1 ||
      log "$1 throughput c=$c failed"
  done
  kill $pid; wait $pid 2>/dev/null
  log "$1 round $2 done"
}
run sluice 1 8411; run llama.cpp 1 8412; run llama.cpp 2 8413; run sluice 2 8414
python3 - "$out" >"$out/table.txt" 2>&1 <<'PY'
import json, statistics as st, sys, pathlib
out = pathlib.Path(sys.argv[1])
def med(name, size, kind):
    v = []
    for rnd in (1, 2):
        f = out / f"{name}-{rnd}-{size}.json"
        if not f.exists():
            continue
        r = json.loads(f.read_text())[4:]  # the first image warms the server up
        v += [x["ttft_ms"] for x in r if x["ttft_ms"] is not None and
              (x["repeat"] == kind if kind != "hot" else x["repeat"] in (1, 2))]
    return st.median(v) if v else float("nan")
print("| size | server | first ms | repeated ms | next turn ms | first/repeated | first/turn |")
for size in (640, 1280):
    for name in ("sluice", "llama.cpp"):
        c, h, t = med(name, size, 0), med(name, size, "hot"), med(name, size, "turn")
        print(f"| {size} | {name} | {c:.1f} | {h:.1f} | {t:.1f} | {c / h:.1f}x | {c / t:.1f}x |")
    s, l = (med(n, size, "hot") for n in ("sluice", "llama.cpp"))
    print(f"| {size} | repeated: llama.cpp / sluice | | {l / s:.2f}x | | | |")
print()
print("| concurrency | server | images/s (32 new 640 px pictures, 1 token each) | TTFT p50 ms |")
for c in (1, 8):
    for name in ("sluice", "llama.cpp"):
        r = [json.loads(f.read_text()) for f in sorted(out.glob(f"{name}-*-tput{c}.json"))]
        if r:
            ips = st.median(x["images_per_s"] for x in r)
            p50 = st.median(x["ttft_p50_ms"] for x in r if x["ttft_p50_ms"] is not None)
            print(f"| {c} | {name} | {ips:.2f} | {p50:.0f} |")
PY
log done
