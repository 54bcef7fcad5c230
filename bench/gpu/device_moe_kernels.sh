#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried; llama_src.tgz too unless PEER=0): the device-side MoE
# ops (route, expert-indexed product, combine; recorded decode steps). The op table's MoE cases
# on CUDA and under compute-sanitizer; greedy CUDA == CPU and --deterministic serial == 4
# concurrent on tiny MoE models; then single-stream decode and prefill of the Qwen3-30B-A3B
# (Q4_K_M) and gpt-oss-20b (MXFP4) shapes against llama-bench on the same files, and aggregate
# throughput of 64 requests of ~128 prompt + 128 output tokens at concurrency 16 and 64 against
# llama-batched-bench (-npp 128 -ntg 128 -npl 1,16,64).
# PROFILE=0 skips the SLUICE_PROFILE runs (single stream, c=64); AB_SLOTS="0 16" repeats the single stream and c=64
# with SLUICE_CUDA_MOE_GEMM_SLOTS at each value (0: the weight-streaming expert kernel only).
# MODELS="gpt-oss-20b" benches that one only; FILTER adds gtest patterns to the op tests',
# MEMCHECK_FILTER replaces memcheck's (default: the op tests').
# Detached; results under /tmp/mk (progress: progress).
#   setsid nohup bench/gpu/device_moe_kernels.sh >/tmp/mk.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/mk && mkdir -p "$out" /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
filter="Backends/OpTable.*/cuda_*moe*:Backends/OpTable.*/cuda_*experts*${FILTER:+:$FILTER}"
$b/backend_tests --gtest_filter="$filter" --gtest_brief=1 >"$out/ops.log" 2>&1
log "op tests: exit $? $(grep -cE 'FAILED' "$out/ops.log") failed lines"
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="${MEMCHECK_FILTER:-$filter}" \
  >"$out/memcheck.txt" 2>&1
log "memcheck: exit $? $(tail -1 "$out/memcheck.txt")"
printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/p34.txt
for spec in "qwen3moe tiny gguf-q4_k" "qwen3moe tiny gguf-f16" "gpt-oss tiny gguf-mxfp4" \
  "gpt-oss tiny safetensors-mxfp4"; do
  set -- $spec
  m=/tmp/m34/$1-$2-$3
  [ "${3#gguf}" != "$3" ] && m=$m.gguf
  [ -e "$m" ] || $b/sluice make-model --arch $1 --preset $2 --format $3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
  for dev in cpu cuda; do
    $b/sluice run -m $m --device $dev --prompts /tmp/p34.txt -n 48 --temp 0 --ignore-eos \
      >"$out/$1-$2-$3.$dev.txt" 2>"$out/$1-$2-$3.$dev.err"
  done
  $b/sluice run -m $m --device cuda --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
    --deterministic --concurrency 1 >"$out/det1.txt" 2>/dev/null
  $b/sluice run -m $m --device cuda --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
    --deterministic --concurrency 4 >"$out/det4.txt" 2>/dev/null
  log "$spec: cpu vs cuda $(texts "$out/$1-$2-$3.cpu.txt" "$out/$1-$2-$3.cuda.txt"); det 1 vs 4 $(texts "$out/det1.txt" "$out/det4.txt")"
done
[ "${PEER:-1}" = 1 ] && (build_llama_cuda "$out/llama_build.log" llama-bench llama-batched-bench; echo "exit $?" >"$out/llama_built") &
write_prompts64  # /tmp/prompts64.txt
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
models=${MODELS:-qwen3-30b-a3b gpt-oss-20b}
for spec in "qwen3moe qwen3-30b-a3b gguf-q4_k" "gpt-oss gpt-oss-20b gguf-mxfp4"; do
  set -- $spec
  [[ " $models " == *" $2 "* ]] || continue
  m=/tmp/m34/$2.gguf
  [ -e "$m" ] || $b/sluice make-model --arch $1 --preset $2 --format $3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>>"$out/make.log"
  $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos \
    >/dev/null 2>"$out/sluice_$2.txt"
  log "$2 sluice: $(grep prompt: "$out/sluice_$2.txt")"
  for c in 16 64; do
    line=$($b/sluice run -m "$m" --device cuda --prompts /tmp/prompts64.txt --concurrency $c \
      -n 128 --ignore-eos --temp 0 2>&1 >/dev/null | grep "requests:")
    log "$2 sluice c=$c: $line"
  done
  for slots in ${AB_SLOTS:-}; do
    SLUICE_CUDA_MOE_GEMM_SLOTS=$slots $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 \
      --temp 0 --ignore-eos >/dev/null 2>"$out/sluice_$2_slots$slots.txt"
    log "$2 sluice, moe gemm slots $slots: $(grep prompt: "$out/sluice_$2_slots$slots.txt")"
    line=$(SLUICE_CUDA_MOE_GEMM_SLOTS=$slots $b/sluice run -m "$m" --device cuda \
      --prompts /tmp/prompts64.txt --concurrency 64 -n 128 --ignore-eos --temp 0 2>&1 >/dev/null |
      grep "requests:")
    log "$2 sluice c=64, moe gemm slots $slots: $line"
  done
  if [ "${PROFILE:-1}" = 1 ]; then
    SLUICE_PROFILE=$out/profile_$2.txt $b/sluice run -m "$m" --device cuda -p "$prompt" -n 128 \
      --temp 0 --ignore-eos >/dev/null 2>&1
    SLUICE_PROFILE=$out/profile_$2_c64.txt $b/sluice run -m "$m" --device cuda \
      --prompts /tmp/prompts64.txt --concurrency 64 -n 128 --ignore-eos --temp 0 >/dev/null 2>&1
  fi
done
if [ "${PEER:-1}" = 1 ]; then
  wait
  log "llama.cpp build: $(cat "$out/llama_built")"
  for name in $models; do
    /tmp/lc/build/bin/llama-bench -m /tmp/m34/$name.gguf -ngl 99 -p 512 -n 128 -r 2 2>/dev/null \
      | grep -E "pp512|tg128" >"$out/llama_$name.txt"
    log "$name llama: $(tr -s ' ' <"$out/llama_$name.txt" | cut -d'|' -f7,8 | tr '\n' ' ')"
    /tmp/lc/build/bin/llama-batched-bench -m /tmp/m34/$name.gguf -ngl 99 -c 20000 -b 2048 -ub 512 \
      -npp 128 -ntg 128 -npl 1,16,64 >"$out/llama_batched_$name.txt" 2>&1
    log "$name llama-batched-bench: $(grep -E '^\|\s+128' "$out/llama_batched_$name.txt" | tr -s ' ' | tr '\n' ';')"
  done
fi
log done
