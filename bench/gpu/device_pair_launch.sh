#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: the one-launch q/k/v products
# (SLUICE_CUDA_PAIR_LAUNCH). First the CUDA matmul cases (the pair launch against separate
# matmuls, bit for bit, and the op table's products), then ROUNDS (3) alternated rounds of
# single-stream decode on the 12-layer Qwen3-30B-A3B cut (a 513-token prompt, 256 tokens) with
# the switch off and on. Detached; progress in /tmp/pair/progress:
#   setsid nohup bench/gpu/device_pair_launch.sh >/tmp/pair.log 2>&1 </dev/null &
source "$(dirname "$0")/device_env.sh"
out=/tmp/pair; mkdir -p $out
log() { echo "$(date +%T) $*" >>"$out/progress"; }
$b/backend_tests --gtest_brief=1 \
  --gtest_filter='CudaOps.MatmulMany*:CudaOps.Staged*:CudaOps.SixBit*:*cuda_matmul*' >$out/tests.txt 2>&1
log "cuda matmul tests: exit $? ($(grep -c OK $out/tests.txt) ok lines; $(tail -1 $out/tests.txt))"
m34_model qwen3moe qwen3-30b-a3b gguf-q4_k 12
log "made $m"
long=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
for round in $(seq 1 "${ROUNDS:-3}"); do
  for v in 0 1; do
    log "round $round pair=$v: $(SLUICE_CUDA_PAIR_LAUNCH=$v $b/sluice run -m $m --device cuda -p "$long" \
      -n 256 --temp 0 --ignore-eos 2>&1 >$out/text.$v.txt | grep -o 'generation: .*tok/s')"
  done
  log "round $round texts equal: $(cmp -s $out/text.0.txt $out/text.1.txt && echo yes || echo NO)"
done
log done
