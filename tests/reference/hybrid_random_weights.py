"""Tiny random Qwen3.5 / Qwen3.5-MoE / Qwen3-Next models: shapes, Hugging Face weights, GGUF layout.

Shared by gguf_py_random_hybrid.py (GGUF via `gguf.GGUFWriter`) and hf_random_qwen35.py (a
transformers-style directory), so that the same --seed gives the same model in both formats.

`hf_weights` draws the weights in the layout the published checkpoints use (text model only,
names "model.layers.N...", every value exactly representable in bfloat16). `to_gguf` converts
them the way llama.cpp's conversion/qwen.py does:
  - RMSNorm weights of the residual stream and of q/k are stored zero-centred in HF (applied as
    1 + w): +1 in GGUF; the gated norm of the delta net (linear_attn.norm) is stored as is;
  - A_log -> ssm_a = -exp(A_log); dt_bias -> ssm_dt.bias; conv1d [C, 1, K] -> [C, K];
  - Qwen3-Next's in_proj_qkvz (per key head: q, k, v of its value heads, z of them) splits into
    attn_qkv (all q, all k, all v) and attn_gate (z); in_proj_ba is kept as ssm_ba (per key head:
    beta of its value heads, then alpha of them);
  - Qwen3.5 value heads are reordered from grouped (value head j reads key head j // (Hv/Hk)) to
    tiled (value head j reads key head j % Hk) in every tensor indexed by value head.
"""
from __future__ import annotations

import dataclasses

import numpy as np

ARCHS = ("qwen35", "qwen35moe", "qwen3next")


@dataclasses.dataclass(frozen=True)
class Shape:
    hidden: int = 64
    layers: int = 4
    full_attention_interval: int = 4  # layers 0-2 gated delta net, layer 3 full attention
    heads: int = 4
    kv_heads: int = 2
    head_dim: int = 32
    partial_rotary: float = 0.25  # rope on the first 8 of 32 dims
    mrope_section: tuple = (2, 1, 1)  # Qwen3.5 only; sums to the 4 rotated pairs
    rope_theta: float = 10000.0  # the published models use 1e7; 1e4 turns every rotated pair
    k_heads: int = 2  # linear attention key heads (Hk)
    v_heads: int = 4  # linear attention value heads (Hv = 2 Hk)
    k_dim: int = 16
    v_dim: int = 16  # llama.cpp requires k_dim == v_dim
    conv_kernel: int = 4
    ff: int = 128  # dense MLP (qwen35); also qwen3next's intermediate_size key
    experts: int = 4
    experts_used: int = 2
    expert_ff: int = 64
    shared_ff: int = 96
    rms_eps: float = 1e-6
    context: int = 4096

    @property
    def key_dim(self):
        return self.k_heads * self.k_dim

    @property
    def value_dim(self):
        return self.v_heads * self.v_dim

    @property
    def conv_dim(self):
        return 2 * self.key_dim + self.value_dim

    @property
    def rope_dims(self):
        return int(self.head_dim * self.partial_rotary)

    def is_linear(self, layer: int) -> bool:
        return (layer + 1) % self.full_attention_interval != 0


SHAPE = Shape()


def is_moe(arch: str) -> bool:
    return arch in ("qwen35moe", "qwen3next")


def tied(arch: str) -> bool:
    """Untied everywhere (as Qwen3.5-9B+ and the MoE models): tied, a tiny model's logits are
    dominated by the last token's own embedding, and greedy decoding repeats it."""
    return False


def _bf16(a: np.ndarray) -> np.ndarray:
    """Round float32 to the nearest bfloat16 (ties to even), kept as float32."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.view(np.float32)


def hf_weights(arch: str, n_vocab: int, seed: int, s: Shape = SHAPE) -> dict:
    """HF-named text-model weights, float32 holding bfloat16 values; activations stay O(1)."""
    assert arch in ARCHS, arch
    rng = np.random.default_rng(seed)
    w: dict = {}

    def rand(name, shape, std):
        w[name] = _bf16(rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    def zero_centred_norm(name, n):  # applied as 1 + w; multiples of 2^-7 keep 1 + w exact in bf16
        w[name] = (np.round(rng.standard_normal(n) * 0.1 * 128) / 128).astype(np.float32)

    res = 1.0 / np.sqrt(2 * s.layers)  # residual writers scaled down further
    H = s.hidden
    rand("model.embed_tokens.weight", (n_vocab, H), 1.0)
    for i in range(s.layers):
        p = f"model.layers.{i}."
        zero_centred_norm(p + "input_layernorm.weight", H)
        if s.is_linear(i):
            a = p + "linear_attn."
            if arch == "qwen3next":
                rand(a + "in_proj_qkvz.weight", (2 * s.key_dim + 2 * s.value_dim, H), H**-0.5)
                rand(a + "in_proj_ba.weight", (2 * s.v_heads, H), H**-0.5)
            else:
                rand(a + "in_proj_qkv.weight", (s.conv_dim, H), H**-0.5)
                rand(a + "in_proj_z.weight", (s.value_dim, H), H**-0.5)
                rand(a + "in_proj_b.weight", (s.v_heads, H), H**-0.5)
                rand(a + "in_proj_a.weight", (s.v_heads, H), H**-0.5)
            rand(a + "conv1d.weight", (s.conv_dim, 1, s.conv_kernel), 0.5)
            rand(a + "dt_bias", (s.v_heads,), 0.5)
            # decay exp(-A softplus(a + dt_bias)) between ~0.1 and ~0.97 per token
            w[a + "A_log"] = _bf16(np.log(rng.uniform(0.1, 1.2, s.v_heads)).astype(np.float32))
            w[a + "norm.weight"] = _bf16((1.0 + 0.1 * rng.standard_normal(s.v_dim)).astype(np.float32))
            rand(a + "out_proj.weight", (H, s.value_dim), s.value_dim**-0.5 * res)
        else:
            a = p + "self_attn."
            q_out = s.heads * s.head_dim
            rand(a + "q_proj.weight", (2 * q_out, H), H**-0.5)  # per head: query, then gate
            rand(a + "k_proj.weight", (s.kv_heads * s.head_dim, H), H**-0.5)
            rand(a + "v_proj.weight", (s.kv_heads * s.head_dim, H), H**-0.5)
            rand(a + "o_proj.weight", (H, q_out), q_out**-0.5 * res)
            zero_centred_norm(a + "q_norm.weight", s.head_dim)
            zero_centred_norm(a + "k_norm.weight", s.head_dim)
        zero_centred_norm(p + "post_attention_layernorm.weight", H)
        m = p + "mlp."
        if not is_moe(arch):
            rand(m + "gate_proj.weight", (s.ff, H), H**-0.5)
            rand(m + "up_proj.weight", (s.ff, H), H**-0.5)
            rand(m + "down_proj.weight", (H, s.ff), s.ff**-0.5 * res)
            continue
        E, F = s.experts, s.expert_ff
        rand(m + "gate.weight", (E, H), 2 * H**-0.5)  # a spread-out router: no near ties
        if arch == "qwen3next":  # one tensor per expert, as Qwen3-Next-80B ships
            for e in range(E):
                rand(m + f"experts.{e}.gate_proj.weight", (F, H), H**-0.5)
                rand(m + f"experts.{e}.up_proj.weight", (F, H), H**-0.5)
                rand(m + f"experts.{e}.down_proj.weight", (H, F), F**-0.5 * res)
        else:  # fused, as Qwen3.5-35B-A3B ships: gate rows then up rows
            rand(m + "experts.gate_up_proj", (E, 2 * F, H), H**-0.5)
            rand(m + "experts.down_proj", (E, H, F), F**-0.5 * res)
        rand(m + "shared_expert.gate_proj.weight", (s.shared_ff, H), H**-0.5)
        rand(m + "shared_expert.up_proj.weight", (s.shared_ff, H), H**-0.5)
        rand(m + "shared_expert.down_proj.weight", (H, s.shared_ff), s.shared_ff**-0.5 * res)
        rand(m + "shared_expert_gate.weight", (1, H), H**-0.5)
    zero_centred_norm("model.norm.weight", H)
    if not tied(arch):
        rand("lm_head.weight", (n_vocab, H), 2 * H**-0.5)
    return w


def _tiled(a: np.ndarray, axis: int, s: Shape, head: int) -> np.ndarray:
    """Value heads along `axis` from grouped [Hk, Hv/Hk, head] to tiled [Hv/Hk, Hk, head]."""
    r = s.v_heads // s.k_heads
    shape = list(a.shape)
    a = a.reshape(shape[:axis] + [s.k_heads, r, head] + shape[axis + 1:])
    return np.swapaxes(a, axis, axis + 1).reshape(shape)


def _split_qkvz(qkvz: np.ndarray, s: Shape):
    """Qwen3-Next in_proj_qkvz rows [Hk x (q, k, v, z)] -> qkv rows [q all, k all, v all], z rows."""
    r = s.v_heads // s.k_heads
    sizes = [s.k_dim, s.k_dim, r * s.v_dim, r * s.v_dim]
    g = qkvz.reshape(s.k_heads, sum(sizes), -1)
    q, k, v, z = np.split(g, np.cumsum(sizes)[:-1], axis=1)
    flat = lambda t: t.reshape(-1, qkvz.shape[-1])
    return np.concatenate([flat(q), flat(k), flat(v)]), flat(z)


# Kept in float32 by the converter whatever the file type (besides every 1-D tensor and norm).
F32_NAMES = ("ffn_gate_inp.weight", "ffn_gate_inp_shexp.weight", "ssm_conv1d.weight")


def to_gguf(arch: str, hf: dict, s: Shape = SHAPE) -> list:
    """(GGUF name, float32 array in numpy order) in the converter's layout, as llama.cpp loads it."""
    out = []
    add = lambda name, a: out.append((name, np.ascontiguousarray(a, dtype=np.float32)))
    plus1 = lambda a: a + np.float32(1.0)
    reorder = arch != "qwen3next"  # qwen35 / qwen35moe: grouped -> tiled value heads
    add("token_embd.weight", hf["model.embed_tokens.weight"])
    for i in range(s.layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        add(b + "attn_norm.weight", plus1(hf[p + "input_layernorm.weight"]))
        if s.is_linear(i):
            a = p + "linear_attn."
            conv = hf[a + "conv1d.weight"][:, 0, :]  # [C, K]
            dt, A_log = hf[a + "dt_bias"], hf[a + "A_log"]
            if arch == "qwen3next":
                qkv, z = _split_qkvz(hf[a + "in_proj_qkvz.weight"], s)
            else:
                qkv, z = hf[a + "in_proj_qkv.weight"], hf[a + "in_proj_z.weight"]
                beta, alpha = hf[a + "in_proj_b.weight"], hf[a + "in_proj_a.weight"]
            out_proj = hf[a + "out_proj.weight"]
            if reorder:
                kd2 = 2 * s.key_dim
                qkv = np.concatenate([qkv[:kd2], _tiled(qkv[kd2:], 0, s, s.v_dim)])
                conv = np.concatenate([conv[:kd2], _tiled(conv[kd2:], 0, s, s.v_dim)])
                z = _tiled(z, 0, s, s.v_dim)
                beta, alpha = _tiled(beta, 0, s, 1), _tiled(alpha, 0, s, 1)
                dt, A_log = _tiled(dt, 0, s, 1), _tiled(A_log, 0, s, 1)
                out_proj = _tiled(out_proj, 1, s, s.v_dim)
            add(b + "attn_qkv.weight", qkv)
            add(b + "attn_gate.weight", z)
            if arch == "qwen3next":
                add(b + "ssm_ba.weight", hf[a + "in_proj_ba.weight"])
            else:
                add(b + "ssm_beta.weight", beta)
                add(b + "ssm_alpha.weight", alpha)
            add(b + "ssm_conv1d.weight", conv)
            add(b + "ssm_dt.bias", dt)
            add(b + "ssm_a", -np.exp(A_log))
            add(b + "ssm_norm.weight", hf[a + "norm.weight"])
            add(b + "ssm_out.weight", out_proj)
        else:
            a = p + "self_attn."
            add(b + "attn_q.weight", hf[a + "q_proj.weight"])
            add(b + "attn_k.weight", hf[a + "k_proj.weight"])
            add(b + "attn_v.weight", hf[a + "v_proj.weight"])
            add(b + "attn_output.weight", hf[a + "o_proj.weight"])
            add(b + "attn_q_norm.weight", plus1(hf[a + "q_norm.weight"]))
            add(b + "attn_k_norm.weight", plus1(hf[a + "k_norm.weight"]))
        add(b + "post_attention_norm.weight", plus1(hf[p + "post_attention_layernorm.weight"]))
        m = p + "mlp."
        if not is_moe(arch):
            for n in ("gate", "up", "down"):
                add(b + f"ffn_{n}.weight", hf[m + f"{n}_proj.weight"])
            continue
        add(b + "ffn_gate_inp.weight", hf[m + "gate.weight"])
        if arch == "qwen3next":
            for n in ("gate", "up", "down"):
                stack = [hf[m + f"experts.{e}.{n}_proj.weight"] for e in range(s.experts)]
                add(b + f"ffn_{n}_exps.weight", np.stack(stack))
        else:
            gate_up = hf[m + "experts.gate_up_proj"]
            add(b + "ffn_gate_exps.weight", gate_up[:, : s.expert_ff])
            add(b + "ffn_up_exps.weight", gate_up[:, s.expert_ff:])
            add(b + "ffn_down_exps.weight", hf[m + "experts.down_proj"])
        add(b + "ffn_gate_inp_shexp.weight", hf[m + "shared_expert_gate.weight"])  # [1, H]
        for n in ("gate", "up", "down"):
            add(b + f"ffn_{n}_shexp.weight", hf[m + f"shared_expert.{n}_proj.weight"])
    add("output_norm.weight", plus1(hf["model.norm.weight"]))
    if not tied(arch):
        add("output.weight", hf["lm_head.weight"])
    return out
