#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: issue 34's families as Hugging Face BF16 directories
# (random weights, `make-model --format safetensors-bf16`), greedy text of sluice (CPU and CUDA)
# against PyTorch/transformers in float32 on the same files (bench/gpu/hf_greedy.py). Out: stdout.
source "$(dirname "$0")/device_env.sh"
mkdir -p /tmp/mh
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)"
printf '%s\n' "The quick brown fox jumps over the lazy dog and keeps running far away" \
  "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/ph.txt
for spec in "gpt-oss tiny" "gpt-oss gpt-oss-20b --layers 2" "qwen3moe tiny" "gemma3 tiny"; do
  set -- $spec
  m=/tmp/mh/$1-$2
  rm -rf $m
  $b/sluice make-model --arch $1 --preset $2 ${3:-} ${4:-} --format safetensors-bf16 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  python3 bench/gpu/hf_greedy.py $m --prompts /tmp/ph.txt -n 48 -o /tmp/mh/hf.txt 2>/tmp/mh/hf.err \
    || tail -3 /tmp/mh/hf.err
  for dev in cpu cuda; do
    $b/sluice run -m $m --device $dev --prompts /tmp/ph.txt -n 48 --temp 0 --ignore-eos \
      >/tmp/mh/$dev.txt 2>/dev/null
  done
  echo "$spec: sluice cpu vs transformers $(texts /tmp/mh/cpu.txt /tmp/mh/hf.txt); cuda vs transformers $(texts /tmp/mh/cuda.txt /tmp/mh/hf.txt)"
done
