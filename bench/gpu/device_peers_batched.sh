#!/usr/bin/env bash
# On the GPU machine after device_peers.sh (same models under /tmp/sluice-models): sluice's
# aggregate throughput for 64 requests of 128 prompt + 128 output tokens at concurrency 1, 16 and
# 64 (`sluice run --prompts`), the workload of llama-batched-bench -npp 128 -ntg 128, with the
# default step budget and with 4096. Prints the speed lines.
source "$(dirname "$0")/device_env.sh"
mkdir -p /tmp/sluice-models
write_prompts64  # /tmp/prompts64.txt
for fmt in q4_0 q4_k f16; do
  m=/tmp/sluice-models/llama3-8b-$fmt.gguf
  [ -e "$m" ] || $b/sluice make-model --arch llama --preset llama3-8b --format gguf-$fmt \
    --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null
  for budget in 512 4096; do
    for c in 1 16 64; do
      n=$([ $c = 1 ] && echo 8 || echo 64)
      head -n $n /tmp/prompts64.txt >/tmp/p.txt
      line=$($b/sluice run -m "$m" --device cuda --prompts /tmp/p.txt --concurrency $c -n 128 \
        --ignore-eos --temp 0 --max-num-batched-tokens $budget 2>&1 >/dev/null | grep "requests:")
      echo "$fmt budget=$budget c=$c: $line"
    done
  done
done
