#!/usr/bin/env python3
"""Reference: the Gemma 3 vision tower (SigLIP encoder + Gemma 3 projector) of an mmproj GGUF in
numpy float64, straight from the definitions (transformers' SiglipVisionModel and
Gemma3MultiModalProjector), with the file's weights dequantized exactly.

    python numpy_gemma3_vision.py --mmproj MMPROJ.gguf --pixels P.f32 -o OUT.f32

P.f32: float32 [images, 3, S, S], normalized (what `sluice vision-embed` takes); OUT.f32: float32
[images * tokens, text_hidden].
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_lite import GgufLite  # noqa: E402


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--pixels", required=True)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    f = GgufLite(args.mmproj)
    md = f.metadata
    H, F = int(md["clip.vision.embedding_length"]), int(md["clip.vision.feed_forward_length"])
    L, S = int(md["clip.vision.block_count"]), int(md["clip.vision.image_size"])
    P, heads = int(md["clip.vision.patch_size"]), int(md["clip.vision.attention.head_count"])
    eps = float(md["clip.vision.attention.layer_norm_epsilon"])
    kernel = int(md.get("clip.vision.projector.scale_factor", 4))
    g = lambda name: f.array(name).astype(np.float64)
    swapped = f.tensors["v.blk.0.ffn_down.weight"].shape == [H, F] and H != F  # older converters
    up, down = ("ffn_down", "ffn_up") if swapped else ("ffn_up", "ffn_down")
    side, hd = S // P, H // heads

    outs = []
    for img in np.fromfile(args.pixels, dtype="<f4").reshape(-1, 3, S, S).astype(np.float64):
        # the conv of stride = kernel as patches [side * side, 3 * P * P] (c, y, x) times [H, ...]^T
        patches = img.reshape(3, side, P, side, P).transpose(1, 3, 0, 2, 4).reshape(side * side, -1)
        x = patches @ g("v.patch_embd.weight").reshape(H, -1).T + g("v.patch_embd.bias")
        x = x + g("v.position_embd.weight")
        for i in range(L):
            b = f"v.blk.{i}."
            h = layer_norm(x, g(b + "ln1.weight"), g(b + "ln1.bias"), eps)
            q, k, v = (h @ g(b + f"attn_{m}.weight").T + g(b + f"attn_{m}.bias") for m in "qkv")
            attn = np.empty_like(q)
            for j in range(heads):
                c = slice(j * hd, (j + 1) * hd)
                s = q[:, c] @ k[:, c].T / math.sqrt(hd)
                p = np.exp(s - s.max(-1, keepdims=True))
                attn[:, c] = (p / p.sum(-1, keepdims=True)) @ v[:, c]
            x = x + attn @ g(b + "attn_out.weight").T + g(b + "attn_out.bias")
            h = layer_norm(x, g(b + "ln2.weight"), g(b + "ln2.bias"), eps)
            h = gelu_tanh(h @ g(b + up + ".weight").T + g(b + up + ".bias"))
            x = x + h @ g(b + down + ".weight").T + g(b + down + ".bias")
        x = layer_norm(x, g("v.post_ln.weight"), g("v.post_ln.bias"), eps)
        t = side // kernel  # AvgPool2d(kernel, stride=kernel) over the [side, side] patch grid
        pooled = x.reshape(t, kernel, t, kernel, H).mean(axis=(1, 3)).reshape(t * t, H)
        normed = pooled / np.sqrt((pooled**2).mean(-1, keepdims=True) + eps) * g("mm.soft_emb_norm.weight")
        outs.append(normed @ g("mm.input_projection.weight"))  # [H, text_hidden] in numpy order
    np.concatenate(outs).astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
