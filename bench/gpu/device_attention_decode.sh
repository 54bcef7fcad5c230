#!/usr/bin/env bash
# On the GPU machine: decode attention alone (bench/gpu/attention_gpu_bench.cc), a base build's
# binary against this one's, over contexts, batch sizes and SLUICE_CUDA_DECODE_MAX_PIECES, on the
# decode shapes of the MoE and Gemma 3 models. Carried: devcarry/attn.tgz (bin/attention_gpu_bench
# and bin/attention_gpu_bench_base, lib/ with their Debian libraries). Results: $OUT/attn.txt.
# SEQS, CONTEXTS, PIECES: the lists to sweep; BASE=0 leaves the base binary out.
#   bench/gpu/device_attention_decode.sh
#   BASE=0 SEQS=1 CONTEXTS="600 2000 8000" PIECES="0 6 12 24" bench/gpu/device_attention_decode.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p /tmp/attn && tar xzf devcarry/attn.tgz -C /tmp/attn
export LD_LIBRARY_PATH=/tmp/attn/lib:${LD_LIBRARY_PATH:-}
out=${OUT:?}/attn.txt
nvidia-smi --query-gpu=name --format=csv,noheader >>"$out"
# name: H KVH D L (Qwen3-30B-A3B, gpt-oss-20b, Gemma 3 4B)
for shape in "qwen3moe 32 4 128 48" "gptoss 64 8 64 24" "gemma3-4b 8 4 256 34"; do
  set -- $shape
  name=$1 H=$2 KVH=$3 D=$4 L=$5
  for S in ${SEQS:-1 16}; do
    for C in ${CONTEXTS:-128 600 2000 8000}; do
      l=$L
      [ $((S * C)) -gt 20000 ] && l=8
      [ "${BASE:-1}" = 1 ] && echo "$name $(/tmp/attn/bin/attention_gpu_bench_base $S $C $H $KVH $D $l | sed 's/^/base /')" >>"$out"
      for p in ${PIECES:-0 2 4 8}; do
        echo "$name $(SLUICE_CUDA_DECODE_MAX_PIECES=$p /tmp/attn/bin/attention_gpu_bench $S $C $H $KVH $D $l |
          sed "s/^/this pieces<=$p /")" >>"$out"
      done
    done
  done
done
echo done >>"$out"
