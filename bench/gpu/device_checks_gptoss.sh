#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): gpt-oss on CUDA. The op
# table's new cases (swiglu_clamped, attention with sinks, the MoE ops) on CUDA and under
# compute-sanitizer memcheck; greedy text on CUDA against the CPU for the tiny preset and for
# gpt-oss-20b's widths in 4 layers (random weights; MXFP4 and F16 files); `--deterministic`
# serial == 4 concurrent on CUDA. Out: $OUT/checks_gptoss.tgz.
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/checks_gptoss && mkdir -p "$out"
filter='Backends/OpTable.*/cuda_swiglu*:Backends/OpTable.*/cuda_*sinks*:Backends/OpTable.*/cuda_*moe*:Backends/OpTable.*/cuda_*experts*'
$b/backend_tests --gtest_filter="$filter" --gtest_brief=1 >"$out/ops.log" 2>&1
echo "op tests: exit $?"; grep -E "FAILED|Failure|PASSED|tests ran" "$out/ops.log" | head -20
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$filter" >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?"; tail -2 "$out/memcheck.txt"
$b/engine_tests --gtest_filter='*gpt_oss*' --gtest_brief=1 >"$out/engine.log" 2>&1
echo "engine tests (CPU, this machine): exit $?"
mkdir -p /tmp/mg
printf '%s\n' "The quick brown fox jumps over the lazy dog and keeps running far away" \
  "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/pg.txt
for spec in "tiny gguf-mxfp4 0" "tiny gguf-f16 0" "gpt-oss-20b gguf-mxfp4 4" "gpt-oss-20b gguf-f16 2"; do
  set -- $spec
  m=/tmp/mg/$1-$2.gguf
  layers=(); [ "$3" != 0 ] && layers=(--layers "$3")
  $b/sluice make-model --arch gpt-oss --preset $1 --format $2 "${layers[@]}" \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
  for dev in cpu cuda; do
    $b/sluice run -m $m --device $dev --prompts /tmp/pg.txt -n 160 --temp 0 --ignore-eos \
      >"$out/$1-$2.$dev.txt" 2>"$out/$1-$2.$dev.err"
  done
  echo "$spec: greedy cpu vs cuda $(texts "$out/$1-$2.cpu.txt" "$out/$1-$2.cuda.txt"); cuda: $(grep -h 'requests:' "$out/$1-$2.cuda.err" | tail -1)"
  $b/sluice run -m $m --device cuda --prompts /tmp/pg.txt -n 64 --temp 0 --ignore-eos \
    --deterministic --concurrency 1 >"$out/det1.txt" 2>/dev/null
  $b/sluice run -m $m --device cuda --prompts /tmp/pg.txt -n 64 --temp 0 --ignore-eos \
    --deterministic --concurrency 4 >"$out/det4.txt" 2>/dev/null
  echo "  --deterministic serial vs 4 concurrent: $(texts "$out/det1.txt" "$out/det4.txt")"
  rm -f $m
done
tar czf "$OUT/checks_gptoss.tgz" -C "$OUT" checks_gptoss && rm -rf "$out"
