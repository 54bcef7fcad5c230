#!/usr/bin/env python3
"""Reference: last-position logits of a prompt whose images come as precomputed input rows,
from llama.cpp (llama-cpp-python's ctypes bindings of llama_decode), on the CPU.

    python llama_embd_logits.py MODEL.gguf --tokens "1 2 <image> 3" \
        --image-embeddings IMG.f32 --image-grid 4x6 -o LOGITS.f32 [--json OUT.json -n 8]

Each `<image>` word takes the next IMG.f32: raw float32 [rows * cols, n_embd_inp] (Qwen3-VL:
hidden * (1 + deepstack layers), llama_model_n_embd_inp). Text runs as token batches; an image
runs as one embedding batch with four position planes per row, laid out as libmtmd's helper lays
them out (tools/mtmd/mtmd-helper-common.h, mtmd_image_tokens_get_decoder_pos): t = p0,
h = p0 + k // cols, w = p0 + k % cols, e = 0, after which the positions advance by
max(rows, cols). Writes the last position's logits as raw little-endian float32 [n_vocab]; with
--json the N greedy tokens decoded after the prompt; with --flat-output the last logits of the
same prompt with the deepstack slices zeroed (llama.cpp adds them but they add nothing).
"""
import argparse
import ctypes
import json
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--image-embeddings", action="append", default=[])
    ap.add_argument("--image-grid", action="append", default=[])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--json")
    ap.add_argument("--flat-output", help="also: the logits with every deepstack slice zeroed")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    assert len(args.image_embeddings) == len(args.image_grid)

    import llama_cpp as L

    L.llama_backend_init()
    model = L.llama_model_load_from_file(args.model.encode(), L.llama_model_default_params())
    if not model:
        print(f"llama_embd_logits: cannot load {args.model}", file=sys.stderr)
        return 1
    n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    width = L.llama_model_n_embd_inp(model)
    cp = L.llama_context_default_params()
    cp.n_ctx, cp.n_batch, cp.n_ubatch = 512, 512, 512
    cp.n_threads = cp.n_threads_batch = args.threads
    lctx = L.llama_init_from_model(model, cp)

    seq0 = (L.llama_seq_id * 1)(0)

    def decode(n, token=None, embd=None, pos=None):
        """One batch of n rows of sequence 0; logits of the last row."""
        ids = (ctypes.POINTER(L.llama_seq_id) * n)(*([ctypes.cast(seq0, ctypes.POINTER(L.llama_seq_id))] * n))
        b = L.llama_batch()
        b.n_tokens = n
        b.token = token if token is not None else None
        b.embd = embd if embd is not None else None
        b.pos = pos
        b.n_seq_id = (ctypes.c_int32 * n)(*([1] * n))
        b.seq_id = ids
        b.logits = (ctypes.c_int8 * n)(*([0] * (n - 1) + [1]))
        if L.llama_decode(lctx, b) != 0:
            raise RuntimeError("llama_decode failed")

    def run_prompt(zero_deepstack: bool) -> int:
        """Decodes the prompt from an empty cache; returns the position after it."""
        L.llama_memory_clear(L.llama_get_memory(lctx), True)
        next_image, p, text = 0, 0, []

        def flush():
            nonlocal p, text
            if text:
                n = len(text)
                decode(n, token=(L.llama_token * n)(*text), pos=(L.llama_pos * n)(*range(p, p + n)))
                p += n
                text = []

        for w in args.tokens.split():
            if w != "<image>":
                text.append(int(w))
                continue
            flush()
            rows, cols = (int(v) for v in args.image_grid[next_image].split("x"))
            e = np.fromfile(args.image_embeddings[next_image], dtype="<f4")
            next_image += 1
            n = rows * cols
            assert e.size == n * width, f"{e.size} floats, want {n} x {width}"
            embd = np.ascontiguousarray(e.reshape(n, width), dtype=np.float32)
            if zero_deepstack:
                embd[:, L.llama_model_n_embd(model):] = 0
            k = np.arange(n)
            planes = np.concatenate([np.full(n, p), p + k // cols, p + k % cols, np.zeros(n)])
            decode(n, embd=embd.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                   pos=(L.llama_pos * (4 * n))(*planes.astype(int).tolist()))
            p += max(rows, cols)
        flush()
        return p

    def last_logits():
        return np.ctypeslib.as_array(L.llama_get_logits_ith(lctx, -1), shape=(n_vocab,)).copy()

    if args.flat_output:  # the deepstack slices zeroed: what a model without deepstack sees
        run_prompt(True)
        np.asarray(last_logits(), dtype="<f4").tofile(args.flat_output)
    p = run_prompt(False)
    np.asarray(last_logits(), dtype="<f4").tofile(args.output)
    if args.json:
        greedy = []
        for _ in range(args.n):
            tok = int(np.argmax(last_logits()))
            greedy.append(tok)
            decode(1, token=(L.llama_token * 1)(tok), pos=(L.llama_pos * 1)(p))
            p += 1
        with open(args.json, "w") as f:
            json.dump({"greedy": greedy, "n_pos": p - args.n}, f)
    L.llama_free(lctx)
    L.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
