#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried: bench_gpu.py on one build under two environments,
# alternated (A, B, A, B ...); PROFILE=1 adds SLUICE_PROFILE tables (GPU time per op; it turns
# off CUDA graphs and adds event timing). All results in $OUT/$AB_NAME.tgz (default ab).
#   bench/gpu/device_ab.sh ROUNDS "A_ENV" "B_ENV" BENCH_ARGS...
#   e.g. bench/gpu/device_ab.sh 1 "" "SLUICE_CUDA_QGEMM_MAX_ROWS=0" --only llama3-8b-q4_0 --levels 16,64
# An empty *_ENV runs the build as it is; KEY=VALUE[,KEY=VALUE] sets those variables.
source "$(dirname "$0")/device_env.sh"
rounds=$1 a_env=$2 b_env=$3
shift 3
name=${AB_NAME:-ab}  # the archive's name
out=${OUT:?}/$name && mkdir -p "$out"
env_args() {
  local IFS=,
  for kv in $1; do printf -- '--env\n%s\n' "$kv"; done
}
for r in $(seq 1 "$rounds"); do
  for v in A B; do
    e=$a_env; [ $v = B ] && e=$b_env
    mapfile -t extra < <(env_args "$e")
    [ "${PROFILE:-0}" = 1 ] && extra+=(--profile "$out/$v$r/profile")
    echo "== round $r variant $v (${e:-as built})"
    python3 bench/gpu/bench_gpu.py --sluice devcarry/bin/sluice \
      --tokenizer devcarry/tok/tokenizer.json --models-dir /tmp/sluice-models \
      --out "$out/$v$r" "${extra[@]}" "$@" 2>&1 |
      grep -v '^|' | cut -c1-400
  done
done
tar czf "$OUT/$name.tgz" -C "$OUT" "$name" && rm -rf "$out"
