#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried): Q6G16, the 6-bit member of the weight family, against
# Q8G16 for GGUF Q6_K tensors (SLUICE_CUDA_SIX_BIT 1 / 0, one binary). Its op cases and CudaOps
# tests, memcheck on a subset, greedy CUDA == CPU, --deterministic 1 == 4 and six == wide on a
# tiny Qwen3 MoE and a Qwen3-0.6B shape (gguf-q4_k: v/down projections and the head are Q6_K),
# then the Qwen3-30B-A3B shape (12 layers) single stream (3 rounds) and 64 concurrent (2 rounds).
# Detached; progress in /tmp/q6/progress:
#   setsid nohup bench/gpu/device_six_bit.sh >/tmp/q6.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/q6; mkdir -p $out /tmp/m34
log() { echo "$(date +%T) $*" >>"$out/progress"; }
nvidia-smi --query-gpu=name --format=csv,noheader >>"$out/progress"
F='*q6g16*:CudaOps.SixBit*:CudaOps.QuantizedGemm*:CudaOps.BatchInvariant*:CudaOps.FoldsNorms*:CudaOps.MatmulMany*'
$b/backend_tests --gtest_filter="$F" --gtest_brief=1 >$out/ops.log 2>&1
log "op tests: exit $? $(grep -c 'FAILED  \]' $out/ops.log) failed; $(grep -E '^\[  PASSED' $out/ops.log)"
compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter='*cuda_matmul_q6g16_n1_*:*cuda_matmul_q6g16_n64*:*cuda*experts*q6g16*:CudaOps.SixBit*' >$out/memcheck.txt 2>&1
log "memcheck: exit $? $(tail -1 $out/memcheck.txt)"
printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/p34.txt
for spec in "qwen3moe tiny gguf-q4_k" "qwen3 qwen3-0.6b gguf-q4_k"; do
  set -- $spec
  m=/tmp/m34/$1-$2-$3.gguf
  [ -e $m ] || $b/sluice make-model --arch $1 --preset $2 --format $3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  for run in "cpu 1 1" "cuda 1 1" "cuda 4 1" "cuda 1 0"; do
    set -- $run
    SLUICE_CUDA_SIX_BIT=$3 $b/sluice run -m $m --device $1 --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
      --deterministic --concurrency $2 >$out/tiny.$1.$2.$3.txt 2>/dev/null
  done
  log "$spec: cpu vs cuda $(texts $out/tiny.cpu.1.1.txt $out/tiny.cuda.1.1.txt); det 1 vs 4 $(texts $out/tiny.cuda.1.1.txt $out/tiny.cuda.4.1.txt); six vs q8g16 $(texts $out/tiny.cuda.1.1.txt $out/tiny.cuda.1.0.txt)"
done
write_prompts64
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for ml in "qwen3-30b-a3b 12"; do
  set -- $ml
  m=/tmp/m34/$1-l$2.gguf
  [ -e $m ] || $b/sluice make-model --arch qwen3moe --preset $1 --format gguf-q4_k --layers $2 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  log "made $m"
  for round in 1 2 3; do
    for v in 0 1; do
      SLUICE_CUDA_SIX_BIT=$v $b/sluice run -m $m --device cuda -p "$prompt" -n 256 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
      log "round $round six_bit $v: $(grep generation: $out/one.txt)"
    done
  done
  for round in 1 2; do
    for v in 0 1; do
      line=$(SLUICE_CUDA_SIX_BIT=$v $b/sluice run -m $m --device cuda --prompts /tmp/prompts64.txt --concurrency 64 -n 128 \
        --ignore-eos --temp 0 2>&1 >/dev/null | grep "requests:")
      log "round $round six_bit $v c=64: $line"
    done
  done
done
log done
