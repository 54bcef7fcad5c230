#!/usr/bin/env python3
"""Reference: the Qwen2.5-VL (or Qwen2-VL) vision tower of an mmproj GGUF in numpy float64,
written from transformers' definitions (Qwen2_5_VisionTransformerPretrainedModel and
Qwen2_5_VLPatchMerger; Qwen2VisionTransformerPretrainedModel and PatchMerger), with the file's
weights dequantized exactly and rebuilt into transformers' layouts:

    python numpy_qwen25vl_vision.py --mmproj MMPROJ.gguf --pixels P.f32 --size HxW [--video] -o OUT.f32

P.f32: float32 [images, 3, H, W], normalized (what `sluice vision-embed --size HxW` takes);
OUT.f32: float32 [images * (H/28) * (W/28), text_hidden]. --video: P.f32 holds one video's F
frames; OUT.f32 is [ceil(F/2) * (H/28) * (W/28), text_hidden].

As transformers does it: Qwen2VLImageProcessor's patch flattening (the still image repeated
into both frames of the temporal patch, patches grouped by 2x2 merge units), or
Qwen2VLVideoProcessor.patchify's (an odd count padded with its last frame, frames two by two
into grid_t temporal patches), the Conv3d as one product, VisionRotaryEmbedding over (row,
column) position ids repeated per temporal patch, get_window_index (windows of 112 px per
temporal patch, padded with -100 and filtered; cu_window_seqlens made unique), attention over
cu_seqlens segments (one per temporal patch for the full-attention layers), the merger, and the
reverse of the window permutation.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_lite import GgufLite  # noqa: E402

MERGE, TEMPORAL, WINDOW, THETA = 2, 2, 112, 10000.0
_erf = np.vectorize(math.erf)


def rms_norm(x, w, eps):
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], -1)


def flatten_patches(img, patch):
    """Qwen2VLImageProcessor._preprocess for one still image: [grid_h * grid_w, 3 * 2 * P * P]."""
    _, h, w = img.shape
    gh, gw = h // patch, w // patch
    frames = np.stack([img] * TEMPORAL)  # [2, 3, h, w]
    p = frames.reshape(1, TEMPORAL, 3, gh // MERGE, MERGE, patch, gw // MERGE, MERGE, patch)
    return p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gh * gw, 3 * TEMPORAL * patch * patch)


def flatten_video_patches(frames, patch):
    """Qwen2VLVideoProcessor.patchify for one video [F, 3, h, w]: [grid_t * gh * gw, 3 * 2 * P * P]."""
    if len(frames) % TEMPORAL:
        frames = np.concatenate([frames, frames[-1:].repeat(TEMPORAL - len(frames) % TEMPORAL, 0)])
    f, _, h, w = frames.shape
    gt, gh, gw = f // TEMPORAL, h // patch, w // patch
    p = frames.reshape(1, gt, TEMPORAL, 3, gh // MERGE, MERGE, patch, gw // MERGE, MERGE, patch)
    return p.transpose(0, 1, 4, 7, 5, 8, 3, 2, 6, 9).reshape(gt * gh * gw, 3 * TEMPORAL * patch * patch), gt


def rot_pos_emb(gh, gw, head_dim):
    """Qwen2_5_VisionTransformerPretrainedModel.rot_pos_emb: [n, head_dim / 2]."""
    hpos = np.repeat(np.arange(gh)[:, None], gw, 1)
    wpos = np.repeat(np.arange(gw)[None, :], gh, 0)
    group = lambda a: a.reshape(gh // MERGE, MERGE, gw // MERGE, MERGE).transpose(0, 2, 1, 3).reshape(-1)
    pos = np.stack([group(hpos), group(wpos)], -1)  # [n, 2]
    dim = head_dim // 2
    inv_freq = 1.0 / THETA ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    return (pos[:, :, None] * inv_freq[None, None, :]).reshape(len(pos), -1)


def get_window_index(gt, gh, gw, patch):
    """Qwen2_5_VisionTransformerPretrainedModel.get_window_index for one image or video."""
    ws = WINDOW // MERGE // patch
    lh, lw = gh // MERGE, gw // MERGE
    index = np.arange(gt * lh * lw).reshape(gt, lh, lw)
    pad_h, pad_w = ws - lh % ws, ws - lw % ws
    nh, nw = (lh + pad_h) // ws, (lw + pad_w) // ws
    padded = np.pad(index, ((0, 0), (0, pad_h), (0, pad_w)), constant_values=-100)
    padded = padded.reshape(gt, nh, ws, nw, ws).transpose(0, 1, 3, 2, 4).reshape(gt * nh * nw, ws, ws)
    seqlens = (padded != -100).sum((1, 2))
    window_index = padded.reshape(-1)[padded.reshape(-1) != -100]
    cu = np.concatenate([[0], np.cumsum(seqlens) * MERGE * MERGE])
    cu = cu[np.concatenate([[True], np.diff(cu) != 0])]  # torch.unique_consecutive
    return window_index, cu


def attention(q, k, v, heads, cu, cos, sin):
    n, dim = q.shape
    hd = dim // heads
    q, k, v = (a.reshape(n, heads, hd) for a in (q, k, v))
    q = q * cos[:, None] + rotate_half(q) * sin[:, None]
    k = k * cos[:, None] + rotate_half(k) * sin[:, None]
    out = np.empty_like(q)
    for a, b in zip(cu[:-1], cu[1:]):
        s = np.einsum("qhd,khd->hqk", q[a:b], k[a:b]) / math.sqrt(hd)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out[a:b] = np.einsum("hqk,khd->qhd", p, v[a:b])
    return out.reshape(n, dim)


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
    v25 = md["clip.projector_type"] in ("qwen2.5vl_merger", "qwen2.5o")
    H, L = int(md["clip.vision.embedding_length"]), int(md["clip.vision.block_count"])
    P, heads = int(md["clip.vision.patch_size"]), int(md["clip.vision.attention.head_count"])
    eps = float(md["clip.vision.attention.layer_norm_epsilon"])
    n_wa = int(md.get("clip.vision.n_wa_pattern", 0)) if v25 else 0
    fullatt = [i for i in range(L) if n_wa and (i + 1) % n_wa == 0]
    h_img, w_img = (int(s) for s in args.size.split("x"))
    g = lambda name: f.array(name).astype(np.float64)
    # the Conv3d [H, 3, 2, P, P] the converter split into two conv2d frames
    frames = ["v.patch_embd.weight"] + (["v.patch_embd.weight.1"] if "v.patch_embd.weight.1" in f.tensors else [])
    conv = np.stack([g(n) for n in frames], 2)
    if len(frames) == 1:  # one frame: the second contributes nothing
        conv = np.concatenate([conv, np.zeros_like(conv)], 2)
    conv = conv.reshape(H, -1)
    swapped = f.tensors["v.blk.0.ffn_down.weight"].shape[0] == H and f.tensors["v.blk.0.ffn_down.weight"].shape[1] != H
    up, down = ("ffn_down", "ffn_up") if swapped else ("ffn_up", "ffn_down")

    outs = []
    pixels = np.fromfile(args.pixels, dtype="<f4").reshape(-1, 3, h_img, w_img).astype(np.float64)
    gh, gw = h_img // P, w_img // P
    inputs = [flatten_video_patches(pixels, P)] if args.video else [(flatten_patches(img, P), 1) for img in pixels]
    for patches, gt in inputs:
        x = patches @ conv.T  # [n, H]
        rot = np.tile(rot_pos_emb(gh, gw, H // heads), (gt, 1))
        n = x.shape[0]
        if v25:
            window_index, cu_window = get_window_index(gt, gh, gw, P)
            x = x.reshape(n // 4, 4, H)[window_index].reshape(n, H)
            rot = rot.reshape(n // 4, 4, -1)[window_index].reshape(n, -1)
        else:
            window_index, cu_window = np.arange(n // 4), np.arange(gt + 1) * gh * gw
        emb = np.concatenate([rot, rot], -1)
        cos, sin = np.cos(emb), np.sin(emb)
        cu_full = np.arange(gt + 1) * gh * gw  # one sequence per temporal patch
        for i in range(L):
            b = f"v.blk.{i}."
            norm = (lambda t, k: rms_norm(t, g(b + k + ".weight"), eps)) if v25 else \
                (lambda t, k: layer_norm(t, g(b + k + ".weight"), g(b + k + ".bias"), eps))
            h = norm(x, "ln1")
            q, k, v = (h @ g(b + f"attn_{m}.weight").T + g(b + f"attn_{m}.bias") for m in "qkv")
            cu = cu_full if (i in fullatt or not v25) else cu_window
            x = x + attention(q, k, v, heads, cu, cos, sin) @ g(b + "attn_out.weight").T + g(b + "attn_out.bias")
            h = norm(x, "ln2")
            u = h @ g(b + up + ".weight").T + g(b + up + ".bias")
            if v25:
                gt = h @ g(b + "ffn_gate.weight").T + g(b + "ffn_gate.bias")
                act = gt / (1 + np.exp(-gt)) * u
            else:
                act = u / (1 + np.exp(-1.702 * u))  # QuickGELU
            x = x + act @ g(b + down + ".weight").T + g(b + down + ".bias")
        x = rms_norm(x, g("v.post_ln.weight"), eps) if v25 else \
            layer_norm(x, g("v.post_ln.weight"), g("v.post_ln.bias"), eps)
        x = x.reshape(-1, 4 * H) @ g("mm.0.weight").T + g("mm.0.bias")
        x = 0.5 * x * (1 + _erf(x / math.sqrt(2)))  # nn.GELU()
        x = x @ g("mm.2.weight").T + g("mm.2.bias")
        outs.append(x[np.argsort(window_index)])
    np.concatenate(outs).astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
