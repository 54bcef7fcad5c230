#!/usr/bin/env bash
# On the GPU machine (devcarry/ from scripts/device_bundle.sh, plus devcarry/llama_src.tgz from
# bench/peers/build_llama_cpp.sh --trim): builds llama.cpp with CUDA, measures the read bandwidth
# (PyTorch), then on the same GGUF files:
#  - HTTP, Llama-3-8B shape Q4_K: sluice serve vs llama-server (-np = the concurrency), the same
#    client (bench/gpu/http_load.py: 128-token prompts, 128 outputs) at c = 1, 16, 64;
#  - single stream, Qwen3-0.6B shape Q4_0 and F16, and 8B F16/Q4_0/Q4_K: llama-bench (pp512, tg128)
#    vs `sluice run` (512-token prompt, 128 outputs);
#  - decode at 1/16/64 (128/128): llama-batched-bench vs `sluice run --concurrency`.
# Two rounds, the order alternated. Detached; results under /tmp/peers (progress: /tmp/peers/progress).
#   setsid nohup bench/gpu/device_peers_http.sh >/tmp/peers.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/peers && mkdir -p "$out"
log() { echo "$(date +%T) $*" >>"$out/progress"; }
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
python3 - >"$out/bandwidth.txt" 2>&1 <<'EOF'
import torch
x = torch.empty(2**31, dtype=torch.float16, device="cuda").fill_(1)  # 4 GiB
for _ in range(3): x.sum()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record(); [x.sum() for _ in range(10)]; e.record(); torch.cuda.synchronize()
print(f"read bandwidth (fp16 sum of 4 GiB, 10x): {10 * x.numel() * 2 / (s.elapsed_time(e) / 1e3) / 1e9:.0f} GB/s")
EOF
log "$(cat "$out/bandwidth.txt")"
t0=$(date +%s)
build_llama_cuda "$out/llama_build.log" llama-bench llama-batched-bench llama-server
log "llama.cpp build: exit $? in $(( $(date +%s) - t0 )) s"
lb=/tmp/lc/build/bin
mkdir -p /tmp/sluice-models
make_model() {  # ARCH PRESET FORMAT -> sets m
  m=/tmp/sluice-models/$2-$3.gguf
  [ -e "$m" ] || $b/sluice make-model --arch "$1" --preset "$2" --format "gguf-$3" \
    --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null
}
wait_up() {  # URL: until /health answers 200 (no curl there)
  python3 -c "
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + '/health', timeout=2); sys.exit(0)
    except Exception: time.sleep(0.5)
sys.exit(1)" "$1"
}
port=8100  # a fresh port per server start: the last one's may still be in TIME_WAIT
http_sweep() {  # NAME ROUND: the three concurrency levels against the server at :$port
  for c in 1 16 64; do
    n=$([ $c = 1 ] && echo 4 || echo $((2 * c)))
    python3 bench/gpu/http_load.py --url http://127.0.0.1:$port -c $c -n $n --prompt-len 128 \
      --max-tokens 128 --seed $((c + 10 * $2)) --label "$1 round $2" >>"$out/http.jsonl"
  done
}
sluice_http() {  # ROUND
  port=$((port + 1))
  $b/sluice serve -m "$m" --device cuda --port $port --max-model-len 4096 --max-num-seqs 64 \
    >"$out/sluice_serve_$1.log" 2>&1 &
  local pid=$!
  wait_up http://127.0.0.1:$port && http_sweep sluice "$1"
  kill $pid; wait $pid
}
llama_http() {  # ROUND: one llama-server per concurrency level, -np = c
  for c in 1 16 64; do
    port=$((port + 1))
    $lb/llama-server -m "$m" -ngl 99 --port $port -np $c -c $((1024 * c)) -b 2048 -ub 512 \
      --no-webui >"$out/llama_server_${c}_$1.log" 2>&1 &
    local pid=$!
    if wait_up http://127.0.0.1:$port; then
      n=$([ $c = 1 ] && echo 4 || echo $((2 * c)))
      python3 bench/gpu/http_load.py --url http://127.0.0.1:$port -c $c -n $n --prompt-len 128 \
        --max-tokens 128 --seed $((c + 10 * $1)) --label "llama.cpp round $1" >>"$out/http.jsonl"
    fi
    kill $pid; wait $pid
  done
}
make_model llama llama3-8b q4_k
log "model 8b q4_k: $(du -h "$m" | cut -f1)"
for round in 1 2; do
  if [ $round = 1 ]; then sluice_http 1; llama_http 1; else llama_http 2; sluice_http 2; fi
  log "http round $round done"
done
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
single() {  # ROUND TAG
  $lb/llama-bench -m "$m" -ngl 99 -p 512 -n 128 -r 3 -o json >"$out/llama_bench_$2_$1.json" 2>>"$out/llama_bench.err"
  $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos \
    >/dev/null 2>"$out/sluice_run_$2_$1.txt"
}
for spec in "qwen3 qwen3-0.6b q4_0" "qwen3 qwen3-0.6b f16" "llama llama3-8b f16" "llama llama3-8b q4_0" \
            "llama llama3-8b q4_k"; do
  set -- $spec
  make_model "$1" "$2" "$3"
  for round in 1 2; do single $round "$2-$3"; done
  log "single $2-$3 done"
done
python3 -c "
import random; r = random.Random(0); words = 'the of and to in is that for it as with was on be at by this had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split()
for i in range(64): print(str(i) + ' ' + ' '.join(r.choice(words) for _ in range(120)))" >/tmp/prompts64.txt
for fmt in q4_k q4_0 f16; do
  make_model llama llama3-8b $fmt
  $lb/llama-batched-bench -m "$m" -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 -npl 1,16,64 \
    >"$out/llama_batched_$fmt.txt" 2>&1
  for c in 1 16 64; do
    n=$([ $c = 1 ] && echo 8 || echo 64)
    head -n $n /tmp/prompts64.txt >/tmp/p.txt
    line=$($b/sluice run -m "$m" --device cuda --prompts /tmp/p.txt --concurrency $c -n 128 \
      --ignore-eos --temp 0 2>&1 >/dev/null | grep "requests:")
    echo "$fmt c=$c: $line" >>"$out/sluice_batched.txt"
  done
  log "batched $fmt done"
done
log done
