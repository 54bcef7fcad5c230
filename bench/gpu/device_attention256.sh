#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh) and a base build's sluice
# at devcarry/base.tgz: head_dim 256 attention on the tensor-core tiles (Gemma 3 1B-12B): the
# op table's attention cases on CUDA, memcheck on the hd256 ones, then a Gemma 3 4B shape's
# single-stream decode (short and 4k contexts), base vs this build.
source "$(dirname "$0")/device_env.sh"
w=/tmp/vlm && mkdir -p $w /tmp/base
tar xzf devcarry/base.tgz -C /tmp/base
$b/backend_tests --gtest_filter='*/cuda_paged_attention*' --gtest_brief=1 2>&1 | tail -3
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter='*/cuda_paged_attention*hd256*' \
  --gtest_brief=1 2>&1 | tail -2
[ -e $w/4bt.gguf ] || $b/sluice make-model --arch gemma3 --preset gemma3-4b \
  --tokenizer devcarry/tok/gemma3-vocab.gguf --format gguf-q4_k -o $w/4bt.gguf 2>&1 | tail -1
long=$(python3 -c "print(' '.join(f'w{i % 91}' for i in range(1800)))")
for build in base this base this; do
  bin=$b/sluice
  [ $build = base ] && bin=/tmp/base/devcarry/bin/sluice
  for p in "The quick brown fox" "$long"; do
    $bin run -m $w/4bt.gguf --device cuda --ignore-eos --temp 0 -p "$p" -n 256 2>&1 |
      grep -o "prompt: .*" | sed "s/^/$build /"
  done
done
