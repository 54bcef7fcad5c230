#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): issue 36's hybrid models
# (Qwen3.5, Qwen3-Next) on CUDA. Out: stdout.
#  1. the recurrent ops' op table and unit tests on CUDA, then under compute-sanitizer
#     (memcheck, racecheck);
#  2. last-position logits, CUDA vs CPU, on make-model files (tiny shapes, and the real head
#     dims of qwen3.5-0.8b with 4 layers);
#  3. logits and greedy text, sluice CUDA and CPU vs PyTorch/transformers (float32) on folders
#     written by tests/reference/hf_random_qwen35.py (transformers' own layout).
source "$(dirname "$0")/device_env.sh"
f='*Recurrent*:*conv1d*:*delta_rule*:*sigmoid_mul*'
echo "== 1. CUDA ops"
$b/backend_tests --gtest_filter="$f" --gtest_brief=1 2>&1 | tail -4
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 9 $b/backend_tests \
    --gtest_filter="$f" --gtest_brief=1 >/tmp/cs_$tool.txt 2>&1
  echo "compute-sanitizer $tool: exit $? ($(grep -c 'ERROR SUMMARY: 0' /tmp/cs_$tool.txt) clean summaries)"
  grep -m3 -E "Invalid|Race|ERROR SUMMARY: [1-9]" /tmp/cs_$tool.txt
done

echo "== 2. logits CUDA vs CPU"
mkdir -p /tmp/hy
toks="$(seq -s ' ' 100 13 1400)"
for spec in "qwen35 tiny f16" "qwen35 tiny q4_k" "qwen35moe tiny q8_0" "qwen3next tiny f16" \
            "qwen35 qwen3.5-0.8b q4_k --layers 4"; do
  set -- $spec
  m=/tmp/hy/$1-$2-$3.gguf
  $b/sluice make-model --arch $1 --preset $2 ${4:-} ${5:-} --format gguf-$3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1 || echo "make-model $spec failed"
  for dev in cpu cuda; do
    $b/sluice logits -m $m --device $dev --tokens "$toks" -o /tmp/hy/$dev.f32 2>/tmp/hy/$dev.err \
      || tail -2 /tmp/hy/$dev.err
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile(f'/tmp/hy/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
print('$spec: cuda vs cpu rel-L2 %.2e, argmax %s' % (np.linalg.norm(a - b) / np.linalg.norm(b),
      'same' if a.argmax() == b.argmax() else 'DIFFERENT'))"
done

echo "== 3. greedy vs transformers"
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)"
$b/sluice make-model --arch qwen3 --preset tiny --format safetensors-bf16 \
  --tokenizer devcarry/tok/tokenizer.json -o /tmp/hy/tokdir >/dev/null 2>&1
printf '%s\n' "The quick brown fox jumps over the lazy dog and keeps running far away" \
  "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/hy/prompts.txt
for arch in qwen3next qwen35 qwen35moe; do
  m=/tmp/hy/hf-$arch
  python3 tests/reference/hf_random_qwen35.py --arch $arch --tokenizer-dir /tmp/hy/tokdir \
    --dtype f32 --seed 16 -o $m 2>&1 | tail -2
  for dev in cpu cuda; do
    $b/sluice logits -m $m --device $dev --tokens "$toks" -o /tmp/hy/$dev.f32 2>/dev/null
  done
  python3 bench/gpu/hf_logits.py $m --tokens "$toks" -o /tmp/hy/hf.f32 2>/tmp/hy/hf.err \
    || echo "$arch: transformers logits failed: $(tail -1 /tmp/hy/hf.err)"
  python3 -c "
import numpy as np
r = np.fromfile('/tmp/hy/hf.f32', dtype=np.float32)
for d in ('cpu', 'cuda'):
    a = np.fromfile(f'/tmp/hy/{d}.f32', dtype=np.float32)
    print('$arch logits: sluice %s vs transformers rel-L2 %.2e, argmax %s' % (d,
          np.linalg.norm(a - r) / np.linalg.norm(r), 'same' if a.argmax() == r.argmax() else 'DIFFERENT'))"
  python3 bench/gpu/hf_greedy.py $m --prompts /tmp/hy/prompts.txt -n 32 -o /tmp/hy/hf.txt \
    2>/tmp/hy/hf.err || { echo "$arch: transformers failed: $(tail -1 /tmp/hy/hf.err)"; continue; }
  for dev in cpu cuda; do
    $b/sluice run -m $m --device $dev --prompts /tmp/hy/prompts.txt -n 32 --temp 0 --ignore-eos \
      >/tmp/hy/$dev.txt 2>/tmp/hy/$dev.err || tail -2 /tmp/hy/$dev.err
  done
  echo "$arch: sluice cpu vs transformers $(texts /tmp/hy/cpu.txt /tmp/hy/hf.txt); cuda vs transformers $(texts /tmp/hy/cuda.txt /tmp/hy/hf.txt)"
done
