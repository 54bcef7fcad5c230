#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): the Qwen2.5-VL vision
# tower (issue 37) on CUDA against the CPU, tiny and 7B shapes (the full 32-layer tower), several
# image sizes. Out: stdout.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qwen-vision && mkdir -p $w
tok=devcarry/tok/tokenizer.json
$b/sluice make-model --arch qwen2vl --preset tiny --tokenizer $tok -o $w/text.gguf \
  --vision qwen25vl-tiny --mmproj $w/tiny.gguf 2>&1 | tail -1
$b/sluice make-model --arch qwen2vl --preset tiny --tokenizer $tok -o $w/text.gguf \
  --vision qwen25vl-7b --mmproj $w/7b.gguf 2>&1 | tail -1
# (tower, height, width, images): one window, cut windows, the 7B shape at 448x672 and 896x896
for spec in "tiny 56 84 2" "tiny 168 308 2" "7b 224 224 1" "7b 448 672 2" "7b 896 896 1"; do
  set -- $spec
  python3 -c "import numpy as np; np.random.default_rng(1).uniform(-1.8, 2.1, ($4, 3, $2, $3)).astype(np.float32).tofile('$w/px.f32')"
  for dev in cpu cuda; do
    $b/sluice vision-embed --mmproj $w/$1.gguf --pixels $w/px.f32 --size ${2}x${3} --device $dev \
      --repeat 3 -o $w/$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('cuda', 'cpu'))
print('$1 ${2}x${3} x$4: cuda vs cpu rel-L2 %.2e over %d floats, std %.2f' % (np.linalg.norm(a - b) / np.linalg.norm(b), b.size, b.std()))"
done
