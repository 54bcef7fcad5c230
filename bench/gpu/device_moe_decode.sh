#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried, llama_src.tgz too): where a single-stream MoE decode
# step goes. Fewer-layer Qwen3-30B-A3B (Q4_K_M) and gpt-oss-20b (MXFP4) shapes (per-layer costs
# as in the full models, made in a minute): sluice's decode with the decode attention tiles on
# and off, llama-bench on the same files, and every kernel of a few decode steps timed alone by
# ncu, summed by name (NCU=0: not). CHECKS=1 first runs the op table's MoE and matmul cases
# (and memcheck on the MoE ones); SLOTS="1 0.05" adds decode runs at those
# SLUICE_CUDA_MOE_GEMM_SLOTS values; TILES="1" skips the decode-tiles-off run. A layer count of
# "-" leaves that model out. Results under $OUT/moe_decode.
#   bench/gpu/device_moe_decode.sh [QWEN_LAYERS] [GPTOSS_LAYERS]
#   TILES=1 NCU=0 bench/gpu/device_moe_decode.sh 48 -     # the full Qwen3-30B-A3B depth alone
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/moe_decode && mkdir -p "$out" /tmp/md
qwen_layers=${1:-12} gptoss_layers=${2:-8}
(build_llama_cuda "$out/llama_build.log" llama-bench; echo "exit $?" >"$out/llama_built") &
if [ "${CHECKS:-0}" = 1 ]; then
  filter='Backends/OpTable.*/cuda_*moe*:Backends/OpTable.*/cuda_*experts*'
  $b/backend_tests --gtest_filter="$filter:Backends/OpTable.*/cuda_*matmul*:Backends/OpTable.*/cuda_*folded*" \
    --gtest_brief=1 >"$out/ops.log" 2>&1
  echo "op tests: exit $? $(grep -cE 'FAILED' "$out/ops.log") failed lines" >>"$out/summary.txt"
  compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$filter" >"$out/memcheck.txt" 2>&1
  echo "memcheck: exit $? $(tail -1 "$out/memcheck.txt")" >>"$out/summary.txt"
  printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/md/p.txt
  for spec in "qwen3moe tiny gguf-q4_k" "gpt-oss tiny gguf-mxfp4"; do
    set -- $spec
    m=/tmp/md/$1-$2-$3.gguf
    $b/sluice make-model --arch $1 --preset $2 --format $3 --tokenizer devcarry/tok/tokenizer.json \
      -o $m >/dev/null 2>>"$out/make.log"
    for dev in cpu cuda; do
      $b/sluice run -m $m --device $dev --prompts /tmp/md/p.txt -n 48 --temp 0 --ignore-eos \
        >"$out/$1.$dev.txt" 2>/dev/null
    done
    echo "$spec: cpu vs cuda $(texts "$out/$1.cpu.txt" "$out/$1.cuda.txt")" >>"$out/summary.txt"
  done
fi
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for spec in "qwen3moe qwen3-30b-a3b gguf-q4_k $qwen_layers" "gpt-oss gpt-oss-20b gguf-mxfp4 $gptoss_layers"; do
  set -- $spec
  [ "$4" = - ] && continue
  m=/tmp/md/$2-l$4.gguf
  [ -e "$m" ] || $b/sluice make-model --arch $1 --preset $2 --format $3 --layers $4 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
  for tiles in ${TILES:-1 0}; do
    SLUICE_CUDA_DECODE_TILES=$tiles $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 \
      --temp 0 --ignore-eos 2>&1 >/dev/null | grep prompt: | sed "s/^/$2-l$4 decode tiles $tiles: /" \
      >>"$out/summary.txt"
  done
  for slots in ${SLOTS:-}; do
    SLUICE_CUDA_MOE_GEMM_SLOTS=$slots $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 \
      --temp 0 --ignore-eos 2>&1 >/dev/null | grep prompt: | sed "s/^/$2-l$4 moe gemm slots $slots: /" \
      >>"$out/summary.txt"
  done
  [ "${NCU:-1}" = 1 ] || continue
  timeout 300 ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum \
    --csv --launch-skip 3000 --launch-count $((40 * $4 * 16)) \
    $b/sluice run -m "$m" --device cuda --ignore-eos --temp 0 -p "$prompt" -n 96 \
    >"$out/ncu_$2.csv" 2>"$out/ncu_$2.err"
  python3 bench/gpu/ncu_summary.py "$out/ncu_$2.csv" 30 >>"$out/summary.txt"
done
wait
for f in /tmp/md/*.gguf; do
  /tmp/lc/build/bin/llama-bench -m $f -ngl 99 -p 512 -n 128 -r 2 2>/dev/null | grep -E "pp512|tg128" |
    sed "s|^|$(basename $f) llama: |" >>"$out/summary.txt"
done
echo done >>"$out/summary.txt"
