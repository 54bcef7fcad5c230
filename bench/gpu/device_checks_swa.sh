#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: sliding-window block release on CUDA (decode steps
# recorded as graphs read one block table per layer group). Greedy text on CUDA against the CPU
# and against CUDA with --keep-window-blocks, for Gemma 3 and gpt-oss shapes with prompts longer
# than their windows, and the engine tests' CPU results on this machine. Out: stdout.
source "$(dirname "$0")/device_env.sh"
mkdir -p /tmp/ms
python3 -c "
import random; random.seed(3)
w = 'alpha beta gamma delta river stone cloud light north quiet'.split()
for n in (40, 300, 700, 1500): print(' '.join(random.choice(w) for _ in range(n)))" >/tmp/ps.txt
for spec in "gemma3 tiny gguf-q8_0" "gemma3 gemma3-270m gguf-q4_k" "gpt-oss tiny gguf-mxfp4" \
            "gpt-oss gpt-oss-20b gguf-mxfp4 --layers 2"; do
  set -- $spec
  m=/tmp/ms/$1-$2-$3.gguf
  $b/sluice make-model --arch $1 --preset $2 --format $3 ${4:-} ${5:-} \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  for mode in cpu cuda keep; do
    flags=(--device cuda); [ $mode = cpu ] && flags=(--device cpu)
    [ $mode = keep ] && flags=(--device cuda --keep-window-blocks)
    $b/sluice run -m $m "${flags[@]}" --prompts /tmp/ps.txt -n 96 --temp 0 --ignore-eos \
      --concurrency 4 >/tmp/ms/$mode.txt 2>/tmp/ms/$mode.err
  done
  echo "$1 $2 $3: cuda vs cpu $(texts /tmp/ms/cpu.txt /tmp/ms/cuda.txt); cuda vs keep $(texts /tmp/ms/cuda.txt /tmp/ms/keep.txt)"
  echo "  release: $(grep -h 'requests:' /tmp/ms/cuda.err | tail -1)"
  echo "  keep:    $(grep -h 'requests:' /tmp/ms/keep.err | tail -1)"
  rm -f $m
done
