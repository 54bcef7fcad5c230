#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (DEVCARRY_EXTRA=OLD_SLUICE scripts/device_bundle.sh,
# OLD_SLUICE named sluice_old): a refactor's checks, detached so they outlive one device call.
# Results and progress under /tmp/rs (copy to $OUT from a later call): the CUDA op tests,
# single-stream decode of the old and new builds alternated (ab_decode.py, 8B 4-bit), the model
# checks, memcheck and racecheck on the quantized products.
#   setsid nohup bench/gpu/device_restructure.sh >/tmp/rs.log 2>&1 &
source "$(dirname "$0")/device_env.sh"
out=/tmp/rs && mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,driver_version --format=csv >"$out/gpu.txt"
$b/backend_tests --gtest_filter='Cuda*:Backends/OpTable.*/cuda_*' --gtest_brief=1 >"$out/ops.txt" 2>&1
echo "op tests: exit $?" >>"$out/progress"
python3 bench/gpu/ab_decode.py --tokenizer devcarry/tok/tokenizer.json --out "$out" \
  --only llama3-8b-q4_0 --rounds "${ROUNDS:-3}" --variant "new=$b/sluice" \
  --variant "old=$b/sluice_old" >"$out/decode_ab.txt" 2>&1
echo "decode ab: exit $?" >>"$out/progress"
python3 bench/gpu/check_models.py --sluice $b/sluice --tokenizer devcarry/tok/tokenizer.json \
  --out "$out" >"$out/check_models.log" 2>&1
echo "check_models: exit $?" >>"$out/progress"
compute-sanitizer --tool memcheck $b/backend_tests \
  --gtest_filter='CudaOps.*:CudaRecording.*:Backends/OpTable.*/cuda_matmul_q*:Backends/OpTable.*/cuda_matmul_many*:Backends/OpTable.*/cuda_paged_attention*:Backends/OpTable.*/cuda_sample_rows*:Backends/OpTable.*/cuda_folded*:Backends/OpTable.*/cuda_prepare_qkv*' \
  >"$out/memcheck.txt" 2>&1
echo "memcheck: exit $?" >>"$out/progress"
compute-sanitizer --tool racecheck $b/backend_tests \
  --gtest_filter='Backends/OpTable.*/cuda_matmul_q4g32*:Backends/OpTable.*/cuda_paged_attention_decodes*' >"$out/racecheck.txt" 2>&1
echo "racecheck: exit $?" >>"$out/progress"
echo done >>"$out/progress"
