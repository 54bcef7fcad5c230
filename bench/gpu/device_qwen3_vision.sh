#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): the Qwen3-VL vision tower
# (DeepStack mergers included) on CUDA against the CPU, the tiny and the full 27-layer 8B tower,
# several image sizes, two images per call where noted. Out: stdout.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qwen3-vision && mkdir -p $w
tok=devcarry/tok/tokenizer.json
for v in tiny 8b; do
  $b/sluice make-model --arch qwen3 --preset tiny --tokenizer $tok -o $w/text.gguf \
    --vision qwen3vl-$v --mmproj $w/$v.gguf 2>&1 | tail -1
done
# (tower, height, width, images): positions resampled up and down, the 8B shape up to 896x896
for spec in "tiny 64 96 2" "tiny 192 320 2" "8b 224 224 1" "8b 448 672 2" "8b 896 896 1"; do
  set -- $spec
  python3 -c "import numpy as np; np.random.default_rng(1).uniform(-1, 1, ($4, 3, $2, $3)).astype(np.float32).tofile('$w/px.f32')"
  for dev in cpu cuda; do
    $b/sluice vision-embed --mmproj $w/$1.gguf --pixels $w/px.f32 --size ${2}x${3} --device $dev \
      --repeat 3 -o $w/$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
w = 256 * (3 if '$1' == 'tiny' else 4)  # [main | deepstack...] per token
blocks = ['%.2e' % (np.linalg.norm((a - b).reshape(-1, w)[:, k:k + 256]) / np.linalg.norm(b.reshape(-1, w)[:, k:k + 256])) for k in range(0, w, 256)]
print('$1 ${2}x${3} x$4: cuda vs cpu rel-L2 %.2e over %d floats (per merger %s), std %.2f' % (np.linalg.norm(a - b) / np.linalg.norm(b), b.size, ' '.join(blocks), b.std()))"
done
