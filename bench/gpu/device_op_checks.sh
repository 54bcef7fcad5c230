#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: the CUDA op tests FILTER names, memcheck on MEMCHECK,
# and greedy CUDA == CPU (prompts' prefill on the fused GEMM) and --deterministic 1 == 8 on tiny GGUF files of ARCHS (default gemma3,
# qwen3, qwen3moe, gpt-oss). Detached; progress in /tmp/opc/progress:
#   FILTER='...' MEMCHECK='...' setsid nohup bench/gpu/device_op_checks.sh >/tmp/opc.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/opc && mkdir -p $out /tmp/opc_models
log() { echo "$(date +%T) $*" >>"$out/progress"; }
$b/backend_tests --gtest_filter="${FILTER:-Cuda*:Backends/OpTable.*/cuda_*}" --gtest_brief=1 \
  >$out/ops.log 2>&1
log "op tests: exit $? $(grep -E 'PASSED|FAILED' $out/ops.log | tr '\n' ' ')"
if [ -n "${MEMCHECK:-}" ]; then
  compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$MEMCHECK" >$out/memcheck.txt 2>&1
  log "memcheck: exit $? $(tail -1 $out/memcheck.txt)"
fi
printf '%s\n' "The quick brown fox jumps over the lazy dog" "Once upon a time, in a land far away" \
  "def main(): print('hello world')" "1, 2, 3, 4, 5, 6, 7, 8," "Dear Sir, I write to you about" \
  "In 1905, Einstein published four papers" "Q: why is the sky blue? A:" "Lists: apples, pears, plums" >/tmp/opc_prompts.txt
for spec in ${ARCHS:-"gemma3:gguf-q4_k" "qwen3:gguf-q4_k" "qwen3moe:gguf-q4_k" "gpt-oss:gguf-mxfp4"}; do
  arch=${spec%%:*} fmt=${spec#*:}
  m=/tmp/opc_models/$arch-$fmt.gguf
  [ -e $m ] || $b/sluice make-model --arch $arch --preset tiny --format $fmt \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  for run in "cpu 1 --deterministic" "cuda 1" "cuda 1 --deterministic" "cuda 8 --deterministic"; do
    set -- $run
    $b/sluice run -m $m --device $1 --prompts /tmp/opc_prompts.txt -n 32 --temp 0 --ignore-eos \
      --concurrency $2 ${3:-} >$out/$arch.$1.$2${3:+.det}.txt 2>/dev/null
  done
  log "$spec: cpu vs cuda $(texts $out/$arch.cpu.1.det.txt $out/$arch.cuda.1.txt); det 1 vs 8 $(texts $out/$arch.cuda.1.det.txt $out/$arch.cuda.8.det.txt)"
done
log done
