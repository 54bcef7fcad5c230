#!/usr/bin/env bash
# On the GPU machine (devcarry/ carried, with llama_src.tgz and a base build's sluice at
# devcarry/base.tgz): a MoE change A/B. The op tests FILTER names (and memcheck on them), greedy
# CUDA == CPU and --deterministic 1 == 4 on the tiny gpt-oss and Qwen3 MoE files, then on each of
# MODELS (default gpt-oss-20b, as device_moe_kernels.sh makes it; NAME:LAYERS for fewer layers)
# single-stream decode and 64 concurrent (C64=0: not), base and this build alternated ROUNDS
# times (default 2), and llama.cpp on the same files.
# Detached; progress in /tmp/ab/progress:
#   FILTER='Backends/OpTable.*/cuda_moe_combine*' setsid nohup bench/gpu/device_moe_ab.sh >/tmp/ab.log 2>&1 &
#   MODELS="gpt-oss-20b qwen3-30b-a3b:12" setsid nohup bench/gpu/device_moe_ab.sh >/tmp/ab.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/ab && mkdir -p $out /tmp/m34 /tmp/base
log() { echo "$(date +%T) $*" >>"$out/progress"; }
tar xzf devcarry/base.tgz -C /tmp/base
(build_llama_cuda $out/llama_build.log llama-bench llama-batched-bench; echo "exit $?" >$out/llama_built) &
if [ -n "${FILTER:-}" ]; then
  $b/backend_tests --gtest_filter="$FILTER" --gtest_brief=1 >$out/ops.log 2>&1
  log "op tests: exit $? $(grep -cE 'FAILED' $out/ops.log) failed lines"
  compute-sanitizer --tool memcheck $b/backend_tests --gtest_filter="$FILTER" >$out/memcheck.txt 2>&1
  log "memcheck: exit $? $(tail -1 $out/memcheck.txt)"
fi
printf '%s\n' "The quick brown fox" "Once upon a time" "def main():" "1, 2, 3, 4," >/tmp/p34.txt
for spec in "gpt-oss tiny gguf-mxfp4" "qwen3moe tiny gguf-q4_k"; do
  set -- $spec
  m=/tmp/m34/$1-$2-$3.gguf
  [ -e $m ] || $b/sluice make-model --arch $1 --preset $2 --format $3 \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  for run in "cpu 1" "cuda 1" "cuda 4"; do
    set -- $run
    $b/sluice run -m $m --device $1 --prompts /tmp/p34.txt -n 32 --temp 0 --ignore-eos \
      --deterministic --concurrency $2 >$out/tiny.$1.$2.txt 2>/dev/null
  done
  log "$spec: cpu vs cuda $(texts $out/tiny.cpu.1.txt $out/tiny.cuda.1.txt); det 1 vs 4 $(texts $out/tiny.cuda.1.txt $out/tiny.cuda.4.txt)"
done
write_prompts64  # /tmp/prompts64.txt
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for spec_model in ${MODELS:-${MODEL:-gpt-oss-20b}}; do
  model=${spec_model%%:*} layers=${spec_model#*:}
  [ "$layers" = "$spec_model" ] && layers=
  case $model in
    gpt-oss-20b) spec="gpt-oss gpt-oss-20b gguf-mxfp4" ;;
    qwen3-30b-a3b) spec="qwen3moe qwen3-30b-a3b gguf-q4_k" ;;
  esac
  set -- $spec
  name=$model${layers:+-l$layers}
  m=/tmp/m34/$name.gguf
  [ -e $m ] || $b/sluice make-model --arch $1 --preset $2 --format $3 ${layers:+--layers $layers} \
    --tokenizer devcarry/tok/tokenizer.json -o $m >/dev/null 2>&1
  log "made $name"
  for round in $(seq ${ROUNDS:-2}); do
    for build in base this; do
      bin=$b/sluice
      [ $build = base ] && bin=/tmp/base/base/sluice
      $bin run -m $m --device cuda -p "$prompt" -n 128 --temp 0 --ignore-eos >/dev/null 2>$out/one.txt
      log "$name $build round $round: $(grep prompt: $out/one.txt)"
      [ "${C64:-1}" = 1 ] || continue
      line=$($bin run -m $m --device cuda --prompts /tmp/prompts64.txt --concurrency 64 -n 128 \
        --ignore-eos --temp 0 2>&1 >/dev/null | grep "requests:")
      log "$name $build round $round c=64: $line"
    done
  done
done
wait
log "llama.cpp build: $(cat $out/llama_built)"
for m in /tmp/m34/*-*.gguf; do
  case $m in *tiny*) continue ;; esac
  name=$(basename $m .gguf)
  /tmp/lc/build/bin/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>/dev/null | grep -E "pp512|tg128" >$out/llama_$name.txt
  log "$name llama: $(tr -s ' ' <$out/llama_$name.txt | cut -d'|' -f7,8 | tr '\n' ' ')"
  [ "${C64:-1}" = 1 ] || continue
  /tmp/lc/build/bin/llama-batched-bench -m $m -ngl 99 -c 20000 -b 2048 -ub 512 -npp 128 -ntg 128 \
    -npl 64 >$out/llama_batched_$name.txt 2>&1
  log "$name llama-batched-bench: $(grep -E '^\|\s+128' $out/llama_batched_$name.txt | tr -s ' ' | tr '\n' ';')"
done
log done
