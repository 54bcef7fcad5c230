#!/usr/bin/env bash
# On the GPU machine with devcarry/ carried (scripts/device_bundle.sh, devcarry/img/{a,b}.png with
# sides multiples of 28, devcarry/llama_convert.tgz: convert_hf_to_gguf.py, conversion/ and gguf-py
# of the pinned llama-cpp-python tree): Qwen2.5-VL against PyTorch/transformers (issue 37). A
# random-weight HF checkpoint, converted by llama.cpp's own converter (text GGUF + mmproj, f32);
# the last logits of a two-image prompt, and of a 5-frame video prompt (devcarry/img/f*.png, sides
# multiples of 28), from transformers and from sluice on CPU and CUDA.
source "$(dirname "$0")/device_env.sh"
w=/tmp/qhf && rm -rf $w && mkdir -p $w/llama
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)"
tar xzf devcarry/llama_convert.tgz -C $w/llama
python3 bench/gpu/qwen_vl_hf_compare.py make $w/hf --tokenizer devcarry/tok/tokenizer.json || exit 1
python3 $w/llama/convert_hf_to_gguf.py $w/hf --outtype f32 --outfile $w/text.gguf 2>&1 | tail -2
python3 $w/llama/convert_hf_to_gguf.py $w/hf --outtype f32 --mmproj --outfile $w/mmproj.gguf 2>&1 | tail -2
ls $w
mm=$(ls $w/*mmproj*.gguf | head -1)
ids=$(python3 -c "
import json; t = {a['content']: a['id'] for a in json.load(open('devcarry/tok/tokenizer.json'))['added_tokens']}
print(t['<|vision_start|>'], t['<|vision_end|>'])")
frames=$(ls devcarry/img/f*.png)
set -- $ids
tokens="11 12 13 $1 <image> $2 21 22 23 24 $1 <image> $2 31 32 33"
python3 bench/gpu/qwen_vl_hf_compare.py logits $w/hf --image devcarry/img/a.png devcarry/img/b.png \
  --tokens "$tokens" -o $w/hf.f32 --embeddings $w/hf_embd.f32
python3 bench/gpu/qwen_vl_hf_compare.py logits $w/hf --tokens "11 12 13 21 22 23 24 31 32 33" \
  -o $w/hf_text.f32
$b/sluice logits -m $w/text.gguf --tokens "11 12 13 21 22 23 24 31 32 33" -o $w/cpu_text.f32 2>&1 | tail -1
for im in a b; do
  $b/sluice vision-embed --mmproj $mm --image devcarry/img/$im.png -o $w/embd_$im.f32 2>&1 | tail -1
done
cat $w/embd_a.f32 $w/embd_b.f32 > $w/embd.f32
for dev in cpu cuda; do
  $b/sluice logits -m $w/text.gguf --mmproj $mm --image devcarry/img/a.png devcarry/img/b.png \
    --tokens "$tokens" --device $dev -o $w/$dev.f32 2>&1 | tail -1
done
python3 -c "
import numpy as np
hf, cpu, cuda = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('hf', 'cpu', 'cuda'))
r = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)
t, tc = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('hf_text', 'cpu_text'))
e, ec = (np.fromfile(f'$w/{d}.f32', dtype=np.float32) for d in ('hf_embd', 'embd'))
print('text only: cpu vs transformers rel-L2 %.2e' % r(tc, t))
print('vision tower: %d vs %d floats, rel-L2 %.2e' % (e.size, ec.size, r(ec, e) if e.size == ec.size else -1))
print('vs transformers rel-L2: cpu %.2e, cuda %.2e; argmax hf %d cpu %d cuda %d' % (r(cpu, hf), r(cuda, hf), hf.argmax(), cpu.argmax(), cuda.argmax()))"
vtokens="11 12 $1 <video> $2 21 22"
for fps in 1 2; do
  python3 bench/gpu/qwen_vl_hf_compare.py logits $w/hf --video $frames --video-fps $fps \
    --tokens "$vtokens" -o $w/hf_video.f32 | grep transformers:
  for dev in cpu cuda; do
    $b/sluice logits -m $w/text.gguf --mmproj $mm --video $frames --video-fps $fps \
      --tokens "$vtokens" --device $dev -o $w/${dev}_video.f32 2>&1 | tail -1
  done
  $b/sluice logits -m $w/hf --mmproj $w/hf --video $frames --video-fps $fps --tokens "$vtokens" \
    --device cuda -o $w/dir_video.f32 2>&1 | tail -1
  python3 -c "
import numpy as np
hf, cpu, cuda, d = (np.fromfile(f'$w/{n}_video.f32', dtype=np.float32) for n in ('hf', 'cpu', 'cuda', 'dir'))
r = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)
print('video, $(echo $frames | wc -w) frames at $fps fps, vs transformers rel-L2: cpu %.2e, cuda %.2e, cuda (HF directory) %.2e; argmax hf %d cpu %d cuda %d dir %d'
      % (r(cpu, hf), r(cuda, hf), r(d, hf), hf.argmax(), cpu.argmax(), cuda.argmax(), d.argmax()))"
done
