#!/usr/bin/env python3
"""Reference: the Qwen3-VL vision tower of an mmproj GGUF in numpy float64, written from
transformers' definitions (Qwen3VLVisionModel, Qwen3VLVisionBlock, Qwen3VLVisionPatchMerger),
with the file's weights dequantized exactly and rebuilt into transformers' layouts:

    python numpy_qwen3vl_vision.py --mmproj MMPROJ.gguf --pixels P.f32 --size HxW [--video] -o OUT.f32

P.f32: float32 [images, 3, H, W], normalized (what `sluice vision-embed --size HxW` takes);
OUT.f32: float32 [images * (H/32) * (W/32), text_hidden * (1 + deepstack)]: each token's main
merger row, then each DeepStack merger's in layer order (llama.cpp's concatenation). --video:
P.f32 holds one video's F frames (Qwen3VLVideoProcessor.patchify: an odd count padded with its
last frame, frames two by two); OUT.f32 is [ceil(F/2) * (H/32) * (W/32), ...], each temporal
patch with the image's positions and its own attention sequence (cu_seqlens per patch).

As transformers does it: the still image repeated into both frames of the temporal patch,
patches grouped by 2x2 merge units, the Conv3d (with bias) as one product, the learned position
table resampled bilinearly with aligned corners (fast_pos_embed_interpolate) in merge order, the
2D rotary embedding over (row, column), full attention, LayerNorm blocks with a tanh-GELU MLP
(gelu_pytorch_tanh), DeepStack mergers after the listed layers (LayerNorm over 4 * hidden,
linear_fc1, nn.GELU (erf), linear_fc2) and the main merger (LayerNorm over hidden, then the same).
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_lite import GgufLite  # noqa: E402
from numpy_qwen25vl_vision import (attention, flatten_patches, flatten_video_patches,  # noqa: E402
                                  layer_norm, rot_pos_emb)

MERGE = 2
_erf = np.vectorize(math.erf)


def gelu_erf(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def positions(table, side, gh, gw):
    """fast_pos_embed_interpolate for one image: [gh * gw, H] in merge-unit order."""
    def axis(n):
        src = np.linspace(0, side - 1, n)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, side - 1)
        return lo, hi, src - lo
    y0, y1, dy = axis(gh)
    x0, x1, dx = axis(gw)
    t = table.reshape(side, side, -1)
    out = (t[y0][:, x0] * ((1 - dy)[:, None] * (1 - dx)[None, :])[..., None]
           + t[y0][:, x1] * ((1 - dy)[:, None] * dx[None, :])[..., None]
           + t[y1][:, x0] * (dy[:, None] * (1 - dx)[None, :])[..., None]
           + t[y1][:, x1] * (dy[:, None] * dx[None, :])[..., None])  # [gh, gw, H]
    H = out.shape[-1]
    return out.reshape(gh // MERGE, MERGE, gw // MERGE, MERGE, H).transpose(0, 2, 1, 3, 4).reshape(-1, H)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--pixels", required=True)
    ap.add_argument("--size", required=True, help="HEIGHTxWIDTH of every image")
    ap.add_argument("--video", action="store_true", help="the pixels are one video's frames")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    f = GgufLite(args.mmproj)
    md = f.metadata
    H, L = int(md["clip.vision.embedding_length"]), int(md["clip.vision.block_count"])
    P, heads = int(md["clip.vision.patch_size"]), int(md["clip.vision.attention.head_count"])
    eps = float(md["clip.vision.attention.layer_norm_epsilon"])
    deepstack = [i for i in range(L) if f"v.deepstack.{i}.fc1.weight" in f.tensors]
    h_img, w_img = (int(s) for s in args.size.split("x"))
    g = lambda name: f.array(name).astype(np.float64)
    conv = np.stack([g("v.patch_embd.weight"), g("v.patch_embd.weight.1")], 2).reshape(H, -1)
    table = g("v.position_embd.weight")
    side = int(round(math.sqrt(table.shape[0])))

    def merger(x, prefix, fc1, fc2, post_shuffle):
        if post_shuffle:
            x = layer_norm(x.reshape(-1, 4 * H), g(prefix + "norm.weight"), g(prefix + "norm.bias"), eps)
        else:
            x = layer_norm(x, g("v.post_ln.weight"), g("v.post_ln.bias"), eps).reshape(-1, 4 * H)
        x = gelu_erf(x @ g(fc1 + ".weight").T + g(fc1 + ".bias"))
        return x @ g(fc2 + ".weight").T + g(fc2 + ".bias")

    outs = []
    pixels = np.fromfile(args.pixels, dtype="<f4").reshape(-1, 3, h_img, w_img).astype(np.float64)
    gh, gw = h_img // P, w_img // P
    inputs = [flatten_video_patches(pixels, P)] if args.video else [(flatten_patches(img, P), 1) for img in pixels]
    for patches, gt in inputs:
        x = patches @ conv.T + g("v.patch_embd.bias")  # [n, H]
        x = x + np.tile(positions(table, side, gh, gw), (gt, 1))
        emb = np.tile(np.concatenate([rot_pos_emb(gh, gw, H // heads)] * 2, -1), (gt, 1))
        cos, sin = np.cos(emb), np.sin(emb)
        cu = np.arange(gt + 1) * gh * gw  # one sequence per temporal patch
        features = []
        for i in range(L):
            b = f"v.blk.{i}."
            h = layer_norm(x, g(b + "ln1.weight"), g(b + "ln1.bias"), eps)
            q, k, v = np.split(h @ g(b + "attn_qkv.weight").T + g(b + "attn_qkv.bias"), 3, -1)
            x = x + attention(q, k, v, heads, cu, cos, sin) @ g(b + "attn_out.weight").T + g(b + "attn_out.bias")
            h = layer_norm(x, g(b + "ln2.weight"), g(b + "ln2.bias"), eps)
            u = gelu_tanh(h @ g(b + "ffn_up.weight").T + g(b + "ffn_up.bias"))
            x = x + u @ g(b + "ffn_down.weight").T + g(b + "ffn_down.bias")
            if i in deepstack:
                d = f"v.deepstack.{i}."
                features.append(merger(x, d, d + "fc1", d + "fc2", True))
        outs.append(np.concatenate([merger(x, "", "mm.0", "mm.2", False)] + features, -1))
    np.concatenate(outs).astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
