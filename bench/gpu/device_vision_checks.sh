#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, which packs Gemma 3's
# vocabulary as devcarry/tok/gemma3-vocab.gguf): issue 37's images on CUDA. Out: stdout.
#  1. the vision ops' op table on CUDA, then under compute-sanitizer memcheck;
#  2. the vision tower (vision-embed), CUDA vs CPU, tiny and Gemma 3 4B (SigLIP-so400m) shapes;
#  3. serving a tiny VLM: CUDA vs CPU, and CUDA with 16-token steps (the image alone) vs default;
#  4. TTFT on the Gemma 3 4B shape (Q4_K text + F16 mmproj): first image, repeats, next turn.
source "$(dirname "$0")/device_env.sh"
v=devcarry/tok/gemma3-vocab.gguf
w=/tmp/vlm && mkdir -p $w
f='*gelu_tanh*:*avg_pool*'
echo "== 1. CUDA vision ops"
$b/backend_tests --gtest_filter="$f" --gtest_brief=1 2>&1 | tail -3
compute-sanitizer --tool memcheck --error-exitcode 9 $b/backend_tests --gtest_filter="$f" \
  --gtest_brief=1 >/tmp/cs.txt 2>&1
echo "memcheck: exit $? ($(grep -c 'ERROR SUMMARY: 0' /tmp/cs.txt) clean summaries)"

echo "== 2. tower CUDA vs CPU"
$b/sluice make-model --arch gemma3 --preset tiny --tokenizer $v --format gguf-q8_0 --vision tiny \
  --mmproj $w/tiny-mmproj.gguf -o $w/tiny.gguf 2>&1 | tail -2
$b/sluice make-model --arch gemma3 --preset gemma3-4b --tokenizer $v --format gguf-q4_k \
  --vision gemma3-4b --mmproj $w/4b-mmproj.gguf -o $w/4b.gguf 2>&1 | tail -2
for spec in "tiny 224" "4b 896"; do
  set -- $spec
  python3 -c "import numpy as np; np.random.default_rng(1).uniform(-1, 1, (2, 3, $2, $2)).astype(np.float32).tofile('$w/px.f32')"
  for dev in cpu cuda; do
    /usr/bin/time -f "$1 $dev %e s" $b/sluice vision-embed --mmproj $w/$1-mmproj.gguf \
      --pixels $w/px.f32 --device $dev -o $w/$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
print('$1: cuda vs cpu rel-L2 %.2e over %d floats' % (np.linalg.norm(a - b) / np.linalg.norm(b), b.size))"
done

echo "== 3. serving a tiny VLM"
tpl=tests/data/templates/gemma3_vision_test.jinja
serve() {  # serve PORT ARGS...: starts sluice on the tiny VLM, waits until ready
  local port=$1; shift
  $b/sluice serve -m $w/tiny.gguf --mmproj $w/tiny-mmproj.gguf --chat-template $tpl \
    --port $port "$@" >$w/serve-$port.log 2>&1 &
  for _ in $(seq 120); do curl -sf localhost:$port/health >/dev/null && return; sleep 0.5; done
  echo "server $port did not start"; tail -3 $w/serve-$port.log
}
serve 8301 --device cuda --deterministic --kv-cache-memory 2GiB
serve 8302 --device cpu --deterministic --kv-cache-memory 2GiB
serve 8303 --device cuda --deterministic --max-num-batched-tokens 16 --kv-cache-memory 2GiB
for p in 8301 8302 8303; do
  python3 bench/gpu/vision_requests.py http://localhost:$p $w/r$p.json --images 3 --repeats 2 \
    --turns --size 300 >$w/r$p.txt 2>&1 || tail -3 $w/r$p.txt
done
python3 -c "
import json
r = {p: json.load(open(f'$w/r{p}.json')) for p in (8301, 8302, 8303)}
for a, b, what in ((8301, 8302, 'cuda vs cpu'), (8301, 8303, 'cuda: default vs 16-token steps')):
    same = sum(x['text'] == y['text'] for x, y in zip(r[a], r[b]))
    d = max(abs(u - v) for x, y in zip(r[a], r[b]) for u, v in zip(x['logprobs'], y['logprobs']))
    print(f'{what}: {same}/{len(r[a])} texts equal, max |logprob diff| {d:.2e}')
rep = [x for x in r[8301] if x['repeat'] == 1]
print('repeats cached:', [x['usage']['prompt_tokens_details']['cached_tokens'] for x in rep])
print('cold == cached text:', all(x['text'] == y['text'] for x, y in zip(r[8301][0::3], r[8301][1::3])))"
curl -s localhost:8301/metrics | grep -E "^sluice_(images_encoded|encoder_cache)"
pkill -f "sluice serve" ; sleep 1

echo "== 4. TTFT, Gemma 3 4B shape on CUDA"
$b/sluice serve -m $w/4b.gguf --mmproj $w/4b-mmproj.gguf --chat-template $tpl --port 8304 \
  --device cuda >$w/serve-8304.log 2>&1 &
for _ in $(seq 240); do curl -sf localhost:8304/health >/dev/null && break; sleep 0.5; done
for spec in "640 0" "1280 0" "1280 2000"; do  # image px, system-prompt words
  set -- $spec
  python3 bench/gpu/vision_requests.py http://localhost:8304 $w/r4b.json --images 5 --repeats 3 \
    --turns --size $1 --system-words $2 >/dev/null
  python3 -c "
import json, statistics as st
r = json.load(open('$w/r4b.json'))[4:]  # the first image warms the server up
cold = [x['ttft_ms'] for x in r if x['repeat'] == 0]
hot = [x['ttft_ms'] for x in r if x['repeat'] in (1, 2)]
turn = [x['ttft_ms'] for x in r if x['repeat'] == 'turn']
print(f'{$1} px, {$2} words: first {st.median(cold):.1f} ms, repeated {st.median(hot):.1f} ms '
      f'({st.median(cold) / st.median(hot):.1f}x), next turn {st.median(turn):.1f} ms '
      f'({st.median(cold) / st.median(turn):.1f}x); prompt {r[0][\"usage\"][\"prompt_tokens\"]} tokens')"
done
curl -s localhost:8304/metrics | grep -E "^sluice_(images_encoded|encoder_cache_hits)"
pkill -f "sluice serve"
