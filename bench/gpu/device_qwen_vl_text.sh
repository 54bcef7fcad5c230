#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, plus devcarry/img/*.png):
# Qwen2-VL's text side (issue 37) on CUDA: the M-RoPE op-table cases, then a tiny qwen2vl model +
# Qwen2.5-VL mmproj, the logits after two images of other sizes, CUDA against the CPU, in one
# pass and in 16-token chunks that cut through the images. Out: stdout.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qwen-vl-text && mkdir -p $w
$b/backend_tests --gtest_brief=1 --gtest_filter='*Rope*:*rope*:*Qkv*:*qkv*' 2>&1 | tail -3
$b/sluice make-model --arch qwen2vl --preset tiny --tokenizer devcarry/tok/tokenizer.json \
  -o $w/text.gguf --vision qwen25vl-tiny --mmproj $w/mmproj.gguf 2>&1 | tail -1
tokens="11 12 13 <image> 21 22 23 24 <image> 31 32 33"
for chunk in 512 16; do
  for dev in cpu cuda; do
    $b/sluice logits -m $w/text.gguf --mmproj $w/mmproj.gguf --image devcarry/img/a.png \
      devcarry/img/b.png --tokens "$tokens" --max-num-batched-tokens $chunk --device $dev \
      -o $w/$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
print('chunk $chunk: cuda vs cpu rel-L2 %.2e, argmax %d vs %d' % (np.linalg.norm(a - b) / np.linalg.norm(b), a.argmax(), b.argmax()))"
done
