#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried; a base build's sluice at devcarry/base.tgz): the decode
# attention's merge of its key pieces. The op table's attention cases on CUDA and memcheck on the
# decode ones, then single-stream decode, base vs this build alternated twice: a 12-layer
# Qwen3-30B-A3B shape (Q4_K_M, 513-token prompt) and Gemma 3 1B (head_dim 256, short and
# ~1.8k-token prompts). Results in $OUT/decode_merge/summary.txt.
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/decode_merge && mkdir -p "$out" /tmp/dm /tmp/base
tar xzf devcarry/base.tgz -C /tmp/base
log() { echo "$*" >>"$out/summary.txt"; }
$b/backend_tests --gtest_filter='*/cuda_paged_attention*' --gtest_brief=1 >"$out/ops.txt" 2>&1
log "attention op tests: exit $? $(grep -c FAILED "$out/ops.txt") failed lines"
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter='*/cuda_paged_attention*decode*' \
  >"$out/memcheck.txt" 2>&1
log "memcheck: exit $? $(tail -1 "$out/memcheck.txt")"
$b/sluice make-model --arch qwen3moe --preset qwen3-30b-a3b --layers 12 --format gguf-q4_k \
  --tokenizer devcarry/tok/tokenizer.json -o /tmp/dm/qwen.gguf >/dev/null 2>>"$out/make.log"
$b/sluice make-model --arch gemma3 --preset gemma3-1b --format gguf-q4_k \
  --tokenizer devcarry/tok/gemma3-vocab.gguf -o /tmp/dm/g1b.gguf >/dev/null 2>>"$out/make.log"
qp=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
long=$(python3 -c "print(' '.join(f'w{i % 91}' for i in range(1800)))")
for build in base this base this; do
  bin=$b/sluice
  [ $build = base ] && bin=/tmp/base/devcarry/bin/sluice
  for spec in "qwen:$qp" "g1b:The quick brown fox" "g1b:$long"; do
    m=${spec%%:*}
    line=$($bin run -m /tmp/dm/$m.gguf --device cuda --ignore-eos --temp 0 -p "${spec#*:}" -n 128 \
      2>&1 | grep -o "prompt: .*")
    log "$build $m: $line"
  done
done
log done
