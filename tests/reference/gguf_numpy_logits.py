#!/usr/bin/env python3
"""Reference: EXACT last-position logits of a llama/qwen2/qwen3/qwen3moe/gemma3/gpt-oss GGUF (f64).

    python gguf_numpy_logits.py MODEL.gguf --tokens "1 2 3" -o OUT.f32 [--hidden]

--hidden writes the last position's final-norm hidden state [hidden] instead of the logits: the
vector a last-token-pooling embedding model (Qwen3-Embedding) returns before normalization.

Every tensor is dequantized with the `gguf` package's own numpy dequantizers (read via gguf_lite), then the model runs
in float64 (no activation quantization, no f16 KV cache). This is the "noise floor" reference:
llama.cpp's CPU path quantizes activations (Q8_0/Q8_1/Q8_K) for quantized matmuls and stores the KV
cache in f16, so llama.cpp itself lies some distance from this result; the e2e test prints both
distances. Rope follows llama.cpp: NORM (adjacent pairs) for llama, NEOX (halves) for qwen2/qwen3
(and qwen2vl: text alone has t = h = w, so its M-RoPE is NEOX);
`rope_freqs.weight` (Llama 3 rope scaling) divides the frequencies' wavelengths as llama.cpp does.
qwen3moe: softmax router over all experts, the top `expert_used_count` (ties to the lower id),
their weights renormalized (as llama.cpp does for this architecture), SiLU-gated experts.
gemma3: embeddings x sqrt(hidden), post-attention and post-MLP norms, GeGLU, five sliding-window
layers (RoPE base 10k) to one global; attention scale 1/sqrt(head_dim) (not the 27B's).
gpt-oss: even layers slide (attention.sliding_window), every softmax has a per-head sink logit in
its denominator, q/k/v/o biases, YaRN RoPE as llama.cpp applies it (ramp ends rounded outwards,
cos/sin x (0.1 ln factor + 1)); router with a bias, top k then softmax over them, experts with
biases and the clamped SwiGLU: (clamp(up, +-7) + 1) * g * sigmoid(1.702 g), g = min(gate, 7).
qwen35, qwen35moe, qwen3next (gated delta net + gated attention hybrids): gguf_numpy_hybrid.py.
"""
import argparse
import os
import sys

import numpy as np


def load(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gguf_lite import GgufLite

    f = GgufLite(path)
    arch = f.metadata["general.architecture"]
    meta = {k: v for k, v in f.metadata.items() if k.startswith(arch + ".")}
    weights = {name: f.array(name).astype(np.float64) for name in f.tensors}
    return arch, meta, weights


def moe(h, W, p, k):
    """Qwen3 MoE: softmax over all experts, top k, renormalized; experts [E, rows, cols]."""
    logits = h @ W[p + "ffn_gate_inp.weight"].T  # [T, E]
    prob = np.exp(logits - logits.max(-1, keepdims=True))
    prob /= prob.sum(-1, keepdims=True)
    out = np.zeros_like(h)
    for t in range(h.shape[0]):
        top = np.argsort(-logits[t], kind="stable")[:k]
        w = prob[t, top] / prob[t, top].sum()
        for e, we in zip(top, w):
            gate = W[p + "ffn_gate_exps.weight"][e] @ h[t]
            up = W[p + "ffn_up_exps.weight"][e] @ h[t]
            out[t] += we * (W[p + "ffn_down_exps.weight"][e] @ (gate / (1.0 + np.exp(-gate)) * up))
    return out


def oai_moe(h, W, p, k, limit=7.0, alpha=1.702):
    """gpt-oss MoE: router + bias, top k, softmax over the k; experts [E, rows, cols] + biases."""
    logits = h @ W[p + "ffn_gate_inp.weight"].T + W[p + "ffn_gate_inp.bias"]  # [T, E]
    out = np.zeros_like(h)
    for t in range(h.shape[0]):
        top = np.argsort(-logits[t], kind="stable")[:k]
        w = np.exp(logits[t, top] - logits[t, top].max())
        w /= w.sum()
        for e, we in zip(top, w):
            gate = W[p + "ffn_gate_exps.weight"][e] @ h[t] + W[p + "ffn_gate_exps.bias"][e]
            up = W[p + "ffn_up_exps.weight"][e] @ h[t] + W[p + "ffn_up_exps.bias"][e]
            gate, up = np.minimum(gate, limit), np.clip(up, -limit, limit)
            act = (up + 1.0) * gate / (1.0 + np.exp(-alpha * gate))
            out[t] += we * (W[p + "ffn_down_exps.weight"][e] @ act + W[p + "ffn_down_exps.bias"][e])
    return out


def yarn_inv_freq(theta, n_rot, factor, orig_ctx, beta_fast=32.0, beta_slow=1.0):
    """llama.cpp's YaRN frequencies: interpolated by `factor` past the ramp, kept before it."""
    corr = lambda rot: n_rot * np.log(orig_ctx / (rot * 2 * np.pi)) / (2 * np.log(theta))
    low, high = max(0.0, np.floor(corr(beta_fast))), min(n_rot - 1.0, np.ceil(corr(beta_slow)))
    base = theta ** (-np.arange(0, n_rot, 2) / n_rot)
    keep = 1.0 - np.clip((np.arange(n_rot // 2) - low) / max(0.001, high - low), 0.0, 1.0)
    return base / factor * (1.0 - keep) + base * keep


def forward(arch, meta, W, tokens, hidden=False):
    g = lambda k, d=None: meta.get(f"{arch}.{k}", d)
    H, L = g("embedding_length"), g("block_count")
    nh = g("attention.head_count")
    nkv = g("attention.head_count_kv", nh)
    hd = g("attention.key_length", H // nh)
    eps = g("attention.layer_norm_rms_epsilon")
    theta = g("rope.freq_base", 10000.0)
    n_rot = g("rope.dimension_count", hd)
    T = len(tokens)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    gemma, oss = arch == "gemma3", arch == "gpt-oss"
    window = g("attention.sliding_window", 0) if gemma or oss else 0

    def angles(base, scale=1.0):  # cos, sin [T, 1, n_rot/2]
        inv = base ** (-np.arange(0, n_rot, 2) / n_rot) / scale
        mscale = 1.0
        if g("rope.scaling.type") == "yarn":
            factor = g("rope.scaling.factor")
            inv = yarn_inv_freq(base, n_rot, factor, g("rope.scaling.original_context_length"))
            mscale = 0.1 * np.log(factor) + 1.0
        if "rope_freqs.weight" in W:
            inv = inv / W["rope_freqs.weight"].reshape(-1)[: n_rot // 2]
        ang = np.arange(T)[:, None] * inv[None]
        return mscale * np.cos(ang)[:, None], mscale * np.sin(ang)[:, None]

    linear = g("rope.scaling.factor", 1.0) if g("rope.scaling.type") == "linear" else 1.0
    cos, sin = angles(theta, linear)
    cos_local, sin_local = angles(10000.0)  # Gemma 3's sliding-window layers

    def rope(x, cos, sin):  # [T, heads, hd]
        r, rest = x[..., :n_rot], x[..., n_rot:]
        if arch == "llama":  # NORM: pairs (2i, 2i+1); the converter permuted q/k rows to match
            a, b = r[..., 0::2], r[..., 1::2]
            o = np.empty_like(r)
            o[..., 0::2], o[..., 1::2] = a * cos - b * sin, a * sin + b * cos
        else:  # NEOX: pairs (i, i + n_rot/2)
            a, b = r[..., : n_rot // 2], r[..., n_rot // 2 :]
            o = np.concatenate([a * cos - b * sin, a * sin + b * cos], -1)
        return np.concatenate([o, rest], -1)

    mask = np.triu(np.full((T, T), -np.inf), 1)
    local_mask = mask + np.tril(np.full((T, T), -np.inf), -window) if window else mask
    x = W["token_embd.weight"][tokens]  # [T, H]
    if gemma:
        x = x * np.sqrt(H)
    for i in range(L):
        p = f"blk.{i}."
        local = (gemma and (i + 1) % 6 != 0) or (oss and i % 2 == 0)  # sliding-window layers
        h = rms(x, W[p + "attn_norm.weight"])
        q, k, v = (h @ W[p + f"attn_{n}.weight"].T for n in "qkv")
        if p + "attn_q.bias" in W:
            q, k, v = q + W[p + "attn_q.bias"], k + W[p + "attn_k.bias"], v + W[p + "attn_v.bias"]
        q, k, v = q.reshape(T, nh, hd), k.reshape(T, nkv, hd), v.reshape(T, nkv, hd)
        if p + "attn_q_norm.weight" in W:
            q, k = rms(q, W[p + "attn_q_norm.weight"]), rms(k, W[p + "attn_k_norm.weight"])
        c, sn = (cos_local, sin_local) if local and gemma else (cos, sin)
        q, k = rope(q, c, sn), rope(k, c, sn)
        k, v = np.repeat(k, nh // nkv, 1), np.repeat(v, nh // nkv, 1)  # q head j reads kv head j // rep
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + (local_mask if local else mask)  # [heads, T, T]
        sink = W[p + "attn_sinks.weight"][:, None, None] if oss else -np.inf  # [heads, 1, 1]
        m = np.maximum(s.max(-1, keepdims=True), sink)
        s = np.exp(s - m)
        s /= s.sum(-1, keepdims=True) + np.exp(sink - m)
        o = np.einsum("hts,shd->thd", s, v).reshape(T, nh * hd) @ W[p + "attn_output.weight"].T
        if p + "attn_output.bias" in W:
            o = o + W[p + "attn_output.bias"]
        x = x + (rms(o, W[p + "post_attention_norm.weight"]) if gemma else o)
        h = rms(x, W[p + ("post_attention_norm.weight" if oss else "ffn_norm.weight")])
        if oss:
            x = x + oai_moe(h, W, p, g("expert_used_count"))
            continue
        if gemma:  # GeGLU (tanh gelu), then the post-MLP norm
            gate = h @ W[p + "ffn_gate.weight"].T
            gelu = 0.5 * gate * (1 + np.tanh(np.sqrt(2 / np.pi) * (gate + 0.044715 * gate**3)))
            y = (gelu * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
            x = x + rms(y, W[p + "post_ffw_norm.weight"])
            continue
        if p + "ffn_gate_inp.weight" in W:
            x = x + moe(h, W, p, g("expert_used_count"))
            continue
        gate = h @ W[p + "ffn_gate.weight"].T
        x = x + (gate / (1.0 + np.exp(-gate)) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    out = W.get("output.weight", W["token_embd.weight"])  # tied embeddings when output is absent
    last = rms(x[-1], W["output_norm.weight"])  # [hidden]
    return last if hidden else last @ out.T  # [vocab]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a .gguf file (llama, qwen2, qwen3, qwen3moe, gemma3, gpt-oss, qwen35, qwen35moe, qwen3next)")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--hidden", action="store_true", help="the final-norm hidden state, not logits")
    args = ap.parse_args()
    tokens = [int(t) for t in args.tokens.split()]
    arch, meta, W = load(args.model)
    from gguf_numpy_hybrid import ARCHS as HYBRID, forward as hybrid_forward  # load() set sys.path

    if arch in HYBRID:
        hybrid_forward(arch, meta, W, tokens, moe, args.hidden).astype("<f4").tofile(args.output)
        return 0
    if arch not in ("llama", "qwen2", "qwen2vl", "qwen3", "qwen3moe", "gemma3", "gpt-oss"):
        print(f"gguf_numpy_logits: unsupported architecture {arch}", file=sys.stderr)
        return 2
    forward(arch, meta, W, tokens, args.hidden).astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
