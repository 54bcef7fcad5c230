source bench/gpu/device_env.sh
mkdir -p /tmp/base /tmp/g3 && tar xzf devcarry/base.tgz -C /tmp/base
$b/backend_tests --gtest_filter='*/cuda_paged_attention*' --gtest_brief=1 2>&1 | tail -1
long=$(python3 -c "print(' '.join(f'w{i % 91}' for i in range(1800)))")
for preset in gemma3-1b gemma3-4b; do
  m=/tmp/g3/$preset.gguf
  $b/sluice make-model --arch gemma3 --preset $preset --format gguf-q4_k --tokenizer devcarry/tok/gemma3-vocab.gguf -o $m >/dev/null 2>&1
  for build in base this base this; do
    bin=$b/sluice; [ $build = base ] && bin=/tmp/base/devcarry/bin/sluice
    for p in "The quick brown fox" "$long"; do
      $bin run -m $m --device cuda --ignore-eos --temp 0 -p "$p" -n 128 2>&1 | grep -o "prompt: .*" | sed "s/^/$preset $build /"
    done
  done
done
