#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): the model families of
# issue 34 on CUDA. The op table's new cases (moe_route, matmul_experts, moe_combine, gelu_mul,
# scale, sliding-window attention) on CUDA and under compute-sanitizer memcheck; then greedy text
# on CUDA against the CPU for tiny and full-width Qwen3 MoE and Gemma 3 shapes (random weights,
# several formats), and `--deterministic` 16 concurrent == serial on CUDA. Out: $OUT/checks34.tgz.
source "$(dirname "$0")/device_env.sh"
out=${OUT:?}/checks34 && mkdir -p "$out"
filter='Backends/OpTable.*/cuda_*moe*:Backends/OpTable.*/cuda_*experts*:Backends/OpTable.*/cuda_gelu*:Backends/OpTable.*/cuda_*_w[13]*'
$b/backend_tests --gtest_filter="$filter" --gtest_brief=1 >"$out/ops.log" 2>&1
echo "op tests: exit $?"; grep -E "FAILED|Failure|PASSED|tests ran" "$out/ops.log" | head -20
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$filter" >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?"; tail -2 "$out/memcheck.txt"
mkdir -p /tmp/m34
printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/p34.txt
for spec in "qwen3moe tiny gguf-q4_k" "qwen3moe tiny gguf-f16" "qwen3moe moe-small gguf-q4_0" \
            "gemma3 tiny gguf-q8_0" "gemma3 gemma3-270m gguf-q4_k" "gemma3 gemma3-1b gguf-f16"; do
  set -- $spec
  m=/tmp/m34/$1-$2-$3.gguf
  $b/sluice make-model --arch $1 --preset $2 --format $3 --tokenizer devcarry/tok/tokenizer.json \
    -o $m >/dev/null 2>>"$out/make.log"
  for dev in cpu cuda; do
    $b/sluice run -m $m --device $dev --prompts /tmp/p34.txt -n 48 --temp 0 --ignore-eos \
      >"$out/$1-$2-$3.$dev.txt" 2>"$out/$1-$2-$3.$dev.err"
  done
  echo "$spec: greedy cpu vs cuda $(texts "$out/$1-$2-$3.cpu.txt" "$out/$1-$2-$3.cuda.txt"); cuda: $(grep -h 'requests:' "$out/$1-$2-$3.cuda.err" | tail -1)"
  $b/sluice run -m $m --device cuda --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
    --deterministic --concurrency 1 >"$out/det1.txt" 2>/dev/null
  $b/sluice run -m $m --device cuda --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
    --deterministic --concurrency 4 >"$out/det4.txt" 2>/dev/null
  echo "  --deterministic serial vs 4 concurrent: $(texts "$out/det1.txt" "$out/det4.txt")"
done
tar czf "$OUT/checks34.tgz" -C "$OUT" checks34 && rm -rf "$out"
