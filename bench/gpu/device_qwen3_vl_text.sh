#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, plus devcarry/img/*.png):
# Qwen3-VL's text side (issue 37) on CUDA: the interleaved M-RoPE op-table cases (and memcheck),
# then tiny qwen3vl and qwen3vlmoe models with a Qwen3-VL mmproj (DeepStack), the logits after two
# images of other sizes, CUDA against the CPU, in one pass and in 16-token chunks that cut the
# images. Out: stdout.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qwen3-vl-text && mkdir -p $w
f='*Rope*:*rope*:*Qkv*:*qkv*'
$b/backend_tests --gtest_brief=1 --gtest_filter="$f" 2>&1 | tail -3
compute-sanitizer --tool memcheck --error-exitcode 9 $b/backend_tests --gtest_filter="$f" \
  --gtest_brief=1 >/tmp/cs.txt 2>&1
echo "memcheck: exit $? ($(grep -c 'ERROR SUMMARY: 0' /tmp/cs.txt) clean summaries)"
tokens="11 12 13 <image> 21 22 23 24 <image> 31 32 33"
for arch in qwen3vl qwen3vlmoe; do
  $b/sluice make-model --arch $arch --preset tiny --tokenizer devcarry/tok/tokenizer.json \
    -o $w/$arch.gguf --vision qwen3vl-tiny --mmproj $w/$arch-mmproj.gguf 2>&1 | tail -1
  for chunk in 512 16; do
    rm -f $w/cpu.f32 $w/cuda.f32
    for dev in cpu cuda; do
      $b/sluice logits -m $w/$arch.gguf --mmproj $w/$arch-mmproj.gguf --image devcarry/img/a.png \
        devcarry/img/b.png --tokens "$tokens" --max-num-batched-tokens $chunk --device $dev \
        -o $w/$dev.f32 2>&1 | tail -1
    done
    python3 -c "
import numpy as np
a, b = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
print('$arch chunk $chunk: cuda vs cpu rel-L2 %.2e, argmax %d vs %d' % (np.linalg.norm(a - b) / np.linalg.norm(b), a.argmax(), b.argmax()))"
  done
done
