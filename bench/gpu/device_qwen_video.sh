#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh): Qwen towers encoding one
# video (frame pairs through the two temporal conv halves; 5 frames: the last repeated), CUDA vs
# CPU, for Qwen2.5-VL (window attention) and Qwen3-VL (DeepStack) tiny towers and the Qwen2.5-VL
# 7B tower. The CUDA build has no FFmpeg: frames go in as --pixels.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qvid && mkdir -p $w
tok=devcarry/tok/tokenizer.json
for spec in "qwen2vl qwen25vl-tiny 224 308" "qwen3vl qwen3vl-tiny 256 320" "qwen2vl qwen25vl-7b 448 672"; do
  set -- $spec
  $b/sluice make-model --arch $1 --preset tiny --tokenizer $tok --vision $2 --mmproj $w/$2.gguf \
    -o $w/$1-text.gguf >/dev/null 2>&1
  python3 -c "
import numpy as np
np.random.default_rng(5).standard_normal((5, 3, $3, $4)).astype(np.float32).tofile('$w/px.f32')"
  for dev in cpu cuda; do
    $b/sluice vision-embed --mmproj $w/$2.gguf --pixels $w/px.f32 --size $3x$4 --video \
      --device $dev -o $w/$2.$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
a, b = (np.fromfile('$w/$2.' + d + '.f32', dtype=np.float32) for d in ('cpu', 'cuda'))
print('$2 video $3x$4 x5 frames: %d floats, cuda vs cpu rel-L2 %.2e' % (a.size, np.linalg.norm(a - b) / np.linalg.norm(a)))"
done
