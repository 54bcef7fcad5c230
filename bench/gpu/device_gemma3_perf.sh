#!/usr/bin/env bash
# On the GPU machine (devcarry/ with llama_src.tgz, and base.tgz: a base build's sluice): Gemma 3
# 1B and 4B shapes (Q4_K_M, random weights; head_dim 256) single stream on CUDA, sluice (base and
# this build) against llama-bench on the same GGUF files. Decode of 128 tokens after a short
# prompt and after ~5.2k tokens; llama-bench tg128 and pp512.
source "$(dirname "$0")/device_env.sh"
mkdir -p /tmp/base /tmp/g3 && tar xzf devcarry/base.tgz -C /tmp/base
build_llama_cuda /tmp/g3/llama_build.log llama-bench || { tail -5 /tmp/g3/llama_build.log; exit 1; }
long=$(python3 -c "print(' '.join(f'w{i % 91}' for i in range(1800)))")
for preset in gemma3-1b gemma3-4b; do
  m=/tmp/g3/$preset.gguf
  $b/sluice make-model --arch gemma3 --preset $preset --format gguf-q4_k \
    --tokenizer devcarry/tok/gemma3-vocab.gguf -o $m >/dev/null 2>&1
  /tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>/dev/null | grep -E "pp512|tg128" |
    tr -s ' ' | cut -d'|' -f7,8 | sed "s/^/$preset llama.cpp /"
  /tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 0 -n 128 -d 5200 -r 2 2>/dev/null | grep -E "tg128" |
    tr -s ' ' | cut -d'|' -f7,8 | sed "s/^/$preset llama.cpp depth 5200 /"
  for build in base this; do
    bin=$b/sluice
    [ $build = base ] && bin=/tmp/base/devcarry/bin/sluice
    for p in "The quick brown fox" "$long"; do
      $bin run -m $m --device cuda --ignore-eos --temp 0 -p "$p" -n 128 2>&1 |
        grep -o "prompt: .*" | sed "s/^/$preset $build /"
    done
  done
done
