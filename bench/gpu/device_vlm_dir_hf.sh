#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, devcarry/img/{a,b}.png with
# sides multiples of 28, {c,d}.png multiples of 32): VLM directories against PyTorch/transformers
# (issue 37). (1) A Qwen2.5-VL checkpoint transformers wrote (random weights) read by sluice
# directly, text and tower from the directory; (2) directories sluice's make-model wrote
# (Qwen2.5-VL, Qwen3-VL, Qwen3-VL-MoE; safetensors BF16) loaded by transformers with no missing or
# unexpected tensor. Last logits after two images: sluice on CPU and CUDA vs transformers (f32).
source "$(dirname "$0")/device_env.sh"
w=/tmp/vdir && rm -rf $w && mkdir -p $w
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)"
tok=devcarry/tok/tokenizer.json
ids=$(python3 -c "
import json; t = {a['content']: a['id'] for a in json.load(open('$tok'))['added_tokens']}
print(t['<|vision_start|>'], t['<|vision_end|>'])")
set -- $ids
tokens="11 12 13 $1 <image> $2 21 22 23 24 $1 <image> $2 31 32 33"
compare() {  # NAME IMG1 IMG2: transformers vs sluice (cpu, cuda) on $w/NAME
  local d=$w/$1
  python3 bench/gpu/qwen_vl_hf_compare.py logits $d --image devcarry/img/$2 devcarry/img/$3 \
    --tokens "$tokens" -o $d.hf.f32 || return 1
  for dev in cpu cuda; do
    $b/sluice logits -m $d --mmproj $d --image devcarry/img/$2 devcarry/img/$3 --tokens "$tokens" \
      --device $dev -o $d.$dev.f32 2>&1 | tail -1
  done
  python3 -c "
import numpy as np
hf, cpu, cuda = (np.fromfile('$d.' + x + '.f32', dtype=np.float32) for x in ('hf', 'cpu', 'cuda'))
r = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)
print('$1 vs transformers rel-L2: cpu %.2e, cuda %.2e; argmax hf %d cpu %d cuda %d'
      % (r(cpu, hf), r(cuda, hf), hf.argmax(), cpu.argmax(), cuda.argmax()))"
}
python3 bench/gpu/qwen_vl_hf_compare.py make $w/hf_written --tokenizer $tok
compare hf_written a.png b.png
for spec in "qwen2vl qwen25vl-tiny a.png b.png" "qwen3vl qwen3vl-tiny c.png d.png" \
            "qwen3vlmoe qwen3vl-tiny c.png d.png"; do
  set -- $spec
  $b/sluice make-model --arch $1 --preset tiny --vision $2 --format safetensors-bf16 \
    --tokenizer $tok -o $w/$1 2>&1 | tail -1
  compare $1 $3 $4
done
