#!/usr/bin/env bash
# The Gemma 3 vision tower on the GPU machine: CUDA op-table cases of the vision and encoder ops
# (and compute-sanitizer), then `sluice vision-embed` on CUDA and CPU against Hugging Face
# transformers (SiglipVisionModel + Gemma3MultiModalProjector, float64 on the GPU) on the same
# random mmproj files, and the encode time of the Gemma 3 4B tower (896 px, 27 layers).
# Carry: devcarry (scripts/device_bundle.sh). Results under $OUT.
source "$(dirname "$0")/device_env.sh"
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
M=/tmp/vision; mkdir -p $M
# Test images: gradients plus noise (numpy's PCG64: the same everywhere), normalized with Gemma 3's
# mean = std = 0.5 as float32 [3, S, S].
python3 - $M <<'PY'
import sys, numpy as np
for s in (224, 896):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:s, 0:s]
    img = np.stack([x * 255 / (s - 1), y * 255 / (s - 1), (x + y) * 255 / (2 * s - 2)], -1)
    img = np.clip(img + rng.normal(0, 20, (s, s, 3)), 0, 255).astype(np.uint8)
    ((img.astype(np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1).astype("<f4").tofile(f"{sys.argv[1]}/p{s}.f32")
PY
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$OUT/summary.txt"
ops='*cuda_gelu_tanh*:*cuda_avg_pool*:*cuda_layer_norm*:*cuda_gelu_erf*:*cuda_bidirectional*:*cuda_pool_rows*:*cuda_l2_norm*'
$b/backend_tests --gtest_filter="$ops" --gtest_brief=1 2>&1 | tail -4 | tee -a "$OUT/summary.txt"
compute-sanitizer --tool memcheck --error-exitcode 9 $b/backend_tests --gtest_filter="$ops" \
  --gtest_brief=1 > /tmp/memcheck.txt 2>&1; echo "memcheck rc=$?" | tee -a "$OUT/summary.txt"
tail -3 /tmp/memcheck.txt >> "$OUT/summary.txt"
mk() {  # mk NAME VISION TYPE [LAYERS]
  $b/sluice make-model --arch gemma3 --preset tiny --tokenizer devcarry/tok/tokenizer.json \
    -o $M/text.gguf --vision "$2" --mmproj-type "$3" ${4:+--vision-layers $4} --mmproj "$M/$1.gguf" \
    2>&1 | tail -1
}
mk tiny-f16 tiny f16; mk tiny-f32 tiny f32; mk tiny-q8_0 tiny q8_0
mk 4b2-f16 gemma3-4b f16 2; mk 4b-f16 gemma3-4b f16
(cd $M && sha256sum *.gguf) | tee -a "$OUT/summary.txt"
for m in tiny-f16 tiny-f32 tiny-q8_0 4b2-f16 4b-f16; do
  p=$M/p896.f32; case $m in tiny*) p=$M/p224.f32 ;; esac
  for dev in cuda cpu; do
    echo -n "$m $dev: " | tee -a "$OUT/summary.txt"
    $b/sluice vision-embed --mmproj $M/$m.gguf --pixels $p -o $M/$m-$dev.f32 --device $dev \
      --repeat 3 2>&1 | tail -1 | tee -a "$OUT/summary.txt"
  done
  python3 tests/reference/hf_gemma3_vision.py --mmproj $M/$m.gguf --pixels $p -o $M/$m-hf.f32 \
    --device cuda --dtype float64 2>&1 | grep -v Warning | tail -3
done
cp $M/4b-f16-cuda.f32 $M/4b2-f16-cuda.f32 $M/tiny-f16-cuda.f32 "$OUT/"
python3 - $M <<'PY' | tee -a "$OUT/summary.txt"
import sys, numpy as np
m = sys.argv[1]
r = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))
for name in ["tiny-f16", "tiny-f32", "tiny-q8_0", "4b2-f16", "4b-f16"]:
    x = {d: np.fromfile(f"{m}/{name}-{d}.f32", "<f4").astype(np.float64) for d in ("cuda", "cpu", "hf")}
    print(f"{name}: rel L2 cuda-vs-hf {r(x['cuda'], x['hf']):.3g}  cpu-vs-hf {r(x['cpu'], x['hf']):.3g}"
          f"  cuda-vs-cpu {r(x['cuda'], x['cpu']):.3g}")
PY
