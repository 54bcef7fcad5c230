#!/usr/bin/env python3
"""Reference: an image's embeddings from llama.cpp's multimodal library (libmtmd via
llama-cpp-python's ctypes bindings), on the CPU.

    python mtmd_image_embeddings.py --model TEXT.gguf --mmproj MMPROJ.gguf --image IMG.png \
        -o OUT.f32 [--threads 2] [--repeat N] [--image-min-tokens N]

Loads the text model's vocabulary only (vocab_only: mtmd reads its tokens; the projector's width
is checked against the file's embedding_length here), tokenizes one media marker with the decoded image, runs mtmd_encode_chunk on the image
chunk and writes mtmd_get_output_embd as raw little-endian float32 [n_tokens, n_embd].
Fixed-size projectors (gemma3): the image must already have the mmproj's size
(clip.vision.image_size on each side): mtmd then copies its pixels unresized, so only the encoder
and projector are compared. Dynamic-resolution ones (Qwen2-VL's mergers) take any image and
resize it themselves (to multiples of 28, Qwen3-VL 32, within 8..4096 tokens; --image-min-tokens
lowers the 8, so that a small image of multiple-of-28 sides stays as it is). Qwen3-VL's rows are
[main merger | each DeepStack merger] (1 + deepstack) * n_embd floats wide. Prints
"tokens N embd D ms T" on stdout: the wall time of the last of --repeat encodes (the first also
allocates mtmd's compute buffers; warmup is off).
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_lite import GgufLite  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="the text model's .gguf")
    ap.add_argument("--mmproj", required=True, help="the multimodal projector's .gguf")
    ap.add_argument("--image", required=True, help="an RGB image file (PNG) of the mmproj's size")
    ap.add_argument("-o", "--output", required=True, help="output file (raw float32 little-endian)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--image-min-tokens", type=int, default=0, help="dynamic resolution: 0 keeps mtmd's")
    args = ap.parse_args()

    from PIL import Image

    mm = GgufLite(args.mmproj)
    size = int(mm.metadata["clip.vision.image_size"])
    dynamic = "mm.input_projection.weight" not in mm.tensors  # the Qwen mergers: mm.0, mm.2
    text = GgufLite(args.model).metadata
    text_embd = int(text[f"{text['general.architecture']}.embedding_length"])
    # A vocab_only model has no n_embd, so mtmd skips this check of its own: do it here.
    last = "mm.2.weight" if dynamic else "mm.input_projection.weight"
    proj_out = int(mm.tensors[last].shape[1 if dynamic else 0])
    if proj_out != text_embd:
        print(f"mtmd_image_embeddings: the projector writes {proj_out} floats per token, the text "
              f"model's embeddings have {text_embd}", file=sys.stderr)
        return 2
    # Qwen3-VL: each DeepStack merger (v.deepstack.N.fc2) adds its rows after the main merger's
    deepstack = sum(1 for name in mm.tensors if name.startswith("v.deepstack.") and name.endswith(".fc2.weight"))
    rgb = np.asarray(Image.open(args.image).convert("RGB"), dtype=np.uint8)
    if not dynamic and rgb.shape != (size, size, 3):
        print(f"mtmd_image_embeddings: the image is {rgb.shape[1]}x{rgb.shape[0]}, the mmproj "
              f"takes {size}x{size} (resize it first)", file=sys.stderr)
        return 2

    import llama_cpp
    from llama_cpp import mtmd_cpp as mtmd

    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    mparams.vocab_only = True  # mtmd needs the vocabulary and n_embd, not the weights
    model = llama_cpp.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        print(f"mtmd_image_embeddings: cannot load {args.model}", file=sys.stderr)
        return 1
    cparams = mtmd.mtmd_context_params_default()
    cparams.use_gpu = False
    cparams.n_threads = args.threads
    cparams.print_timings = False
    cparams.warmup = False
    if args.image_min_tokens > 0:
        cparams.image_min_tokens = args.image_min_tokens
    ctx = mtmd.mtmd_init_from_file(args.mmproj.encode(), model, cparams)
    if not ctx:
        print(f"mtmd_image_embeddings: mtmd cannot load {args.mmproj}", file=sys.stderr)
        return 1

    data = np.ascontiguousarray(rgb).reshape(-1)
    buf = (ctypes.c_uint8 * data.size).from_buffer_copy(data.tobytes())
    bitmap = mtmd.mtmd_bitmap_init(rgb.shape[1], rgb.shape[0], buf)
    chunks = mtmd.mtmd_input_chunks_init()
    marker = mtmd.mtmd_default_marker()
    text = mtmd.mtmd_input_text(marker, len(marker), False, True)
    bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
    rc = mtmd.mtmd_tokenize(ctx, chunks, ctypes.byref(text), bitmaps, 1)
    if rc != 0:
        print(f"mtmd_image_embeddings: mtmd_tokenize failed ({rc})", file=sys.stderr)
        return 1
    image = None
    for i in range(mtmd.mtmd_input_chunks_size(chunks)):
        chunk = mtmd.mtmd_input_chunks_get(chunks, i)
        if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            image = chunk
    if image is None:
        print("mtmd_image_embeddings: no image chunk", file=sys.stderr)
        return 1
    n_tokens = mtmd.mtmd_input_chunk_get_n_tokens(image)
    n_embd = text_embd * (1 + deepstack)
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        rc = mtmd.mtmd_encode_chunk(ctx, image)
        ms = (time.perf_counter() - start) * 1e3
        if rc != 0:
            print(f"mtmd_image_embeddings: mtmd_encode_chunk failed ({rc})", file=sys.stderr)
            return 1
    out = np.ctypeslib.as_array(mtmd.mtmd_get_output_embd(ctx), shape=(n_tokens * n_embd,))
    np.asarray(out, dtype="<f4").tofile(args.output)
    print(f"tokens {n_tokens} embd {n_embd} ms {ms:.1f}")

    mtmd.mtmd_input_chunks_free(chunks)
    mtmd.mtmd_bitmap_free(bitmap)
    mtmd.mtmd_free(ctx)
    llama_cpp.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
