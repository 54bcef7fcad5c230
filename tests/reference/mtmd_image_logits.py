#!/usr/bin/env python3
"""Reference: the logits after a prompt with images, and greedy tokens after it, from llama.cpp's
multimodal library (libmtmd via llama-cpp-python's ctypes bindings), on the CPU.

    python mtmd_image_logits.py --model TEXT.gguf --mmproj MMPROJ.gguf --prompt TEXT \
        --image IMG [--image IMG ...] -o LOGITS.f32 --json OUT.json [-n 16] [--threads 2]

TEXT holds mtmd's media marker (<__media__>) once per image; mtmd_tokenize splits it into text
and image chunks (Qwen2-VL: each image between <|vision_start|> and <|vision_end|>), and
mtmd_helper_eval_chunks decodes them (the image's rows at M-RoPE positions over its grid).
Writes the last position's logits as raw little-endian float32 [n_vocab], and OUT.json:
  tokens: the prompt as sluice lays it out (each image as n_tokens copies of <|image_pad|>),
  images: [{offset, n_tokens, nx, ny}], n_pos: the position after the prompt,
  greedy: N argmax tokens decoded one by one after the prompt (stopping at none).
Images under 8 tokens would be grown by mtmd: image_min_tokens is lowered to 1 so that images
whose sides are multiples of 28 keep their size.
"""
import argparse
import ctypes
import json
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--image", action="append", default=[])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from PIL import Image

    import llama_cpp
    from llama_cpp import mtmd_cpp as mtmd

    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        print(f"mtmd_image_logits: cannot load {args.model}", file=sys.stderr)
        return 1
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx = 2048
    cparams.n_batch = 512
    cparams.n_ubatch = 512
    cparams.n_threads = cparams.n_threads_batch = args.threads
    lctx = llama_cpp.llama_init_from_model(model, cparams)
    mp = mtmd.mtmd_context_params_default()
    mp.use_gpu = False
    mp.n_threads = args.threads
    mp.print_timings = False
    mp.warmup = False
    mp.image_min_tokens = 1
    ctx = mtmd.mtmd_init_from_file(args.mmproj.encode(), model, mp)
    if not ctx:
        print(f"mtmd_image_logits: mtmd cannot load {args.mmproj}", file=sys.stderr)
        return 1

    bitmaps = []
    for path in args.image:
        rgb = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8))
        buf = (ctypes.c_uint8 * rgb.size).from_buffer_copy(rgb.tobytes())
        bitmaps.append(mtmd.mtmd_bitmap_init(rgb.shape[1], rgb.shape[0], buf))
    chunks = mtmd.mtmd_input_chunks_init()
    prompt = args.prompt.encode()
    text = mtmd.mtmd_input_text(prompt, len(prompt), False, True)  # no BOS; parse special
    arr = (mtmd.mtmd_bitmap_p_ctypes * max(1, len(bitmaps)))(*bitmaps)
    if mtmd.mtmd_tokenize(ctx, chunks, ctypes.byref(text), arr, len(bitmaps)) != 0:
        print("mtmd_image_logits: mtmd_tokenize failed", file=sys.stderr)
        return 1

    pad = (llama_cpp.llama_token * 4)()
    assert llama_cpp.llama_tokenize(vocab, b"<|image_pad|>", 13, pad, 4, False, True) == 1
    tokens, images = [], []
    for i in range(mtmd.mtmd_input_chunks_size(chunks)):
        chunk = mtmd.mtmd_input_chunks_get(chunks, i)
        if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
            n = ctypes.c_size_t(0)
            ids = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(n))
            tokens += [int(ids[j]) for j in range(n.value)]
            continue
        img = mtmd.mtmd_input_chunk_get_tokens_image(chunk)
        count = mtmd.mtmd_input_chunk_get_n_tokens(chunk)
        images.append({"offset": len(tokens), "n_tokens": count,
                       "nx": mtmd.mtmd_image_tokens_get_nx(img),
                       "ny": mtmd.mtmd_image_tokens_get_ny(img)})
        tokens += [int(pad[0])] * count

    n_past = llama_cpp.llama_pos(0)
    if mtmd.mtmd_helper_eval_chunks(ctx, lctx, chunks, 0, 0, 512, True, ctypes.byref(n_past)) != 0:
        print("mtmd_image_logits: mtmd_helper_eval_chunks failed", file=sys.stderr)
        return 1
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(lctx, -1), shape=(n_vocab,))
    np.asarray(logits, dtype="<f4").tofile(args.output)
    n_pos = n_past.value

    greedy = []
    batch = llama_cpp.llama_batch_init(1, 0, 1)
    pos = n_pos
    for _ in range(args.n):
        tok = int(np.argmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(lctx, -1),
                                                  shape=(n_vocab,))))
        greedy.append(tok)
        batch.n_tokens = 1
        batch.token[0] = tok
        batch.pos[0] = pos
        batch.n_seq_id[0] = 1
        batch.seq_id[0][0] = 0
        batch.logits[0] = True
        if llama_cpp.llama_decode(lctx, batch) != 0:
            print("mtmd_image_logits: llama_decode failed", file=sys.stderr)
            return 1
        pos += 1
    llama_cpp.llama_batch_free(batch)

    with open(args.json, "w") as f:
        json.dump({"tokens": tokens, "images": images, "n_pos": n_pos, "greedy": greedy}, f)
    mtmd.mtmd_input_chunks_free(chunks)
    for b in bitmaps:
        mtmd.mtmd_bitmap_free(b)
    mtmd.mtmd_free(ctx)
    llama_cpp.llama_free(lctx)
    llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
