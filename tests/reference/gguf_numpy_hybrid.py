"""float64 forward of the hybrid GGUF architectures qwen35, qwen35moe and qwen3next (numpy).

Used by gguf_numpy_logits.py (the EXACT reference for GGUF files). The layout is the one llama.cpp
loads (written by gguf_py_random_hybrid.py / conversion/qwen.py):
  gated delta net layers (attention.recurrent_layers, else (i + 1) % full_attention_interval != 0):
    attn_qkv -> causal depthwise conv (ssm_conv1d [C, K], zero history) -> SiLU -> q, k [Hk, dk],
    v [Hv, dv]; q, k L2-normalized (x / sqrt(sum x^2 + eps)), q scaled by 1/sqrt(dk);
    beta = sigmoid(ssm_beta h), log-decay = softplus(ssm_alpha h + ssm_dt.bias) * ssm_a
    (qwen3next: ssm_ba h grouped per key head as [beta x Hv/Hk, alpha x Hv/Hk]);
    value head j reads key head j % Hk (qwen35*, tiled) or j // (Hv/Hk) (qwen3next, grouped);
    state S [dk, dv] per value head: S *= exp(decay); S += k (beta (v - k^T S))^T; out = q^T S;
    out = RMSNorm(out, ssm_norm) * SiLU(attn_gate h), then ssm_out;
  full attention layers: attn_q gives per head [query, gate]; q/k RMSNorm; NEOX rope on the first
    rope.dimension_count dims (Qwen3.5's interleaved M-RoPE is that for text positions); causal
    softmax attention; output x sigmoid(gate), then attn_output;
  residual; post_attention_norm; SwiGLU MLP (qwen35) or softmax top-k renormalized experts plus
    the shared expert scaled by sigmoid(ffn_gate_inp_shexp h).
"""
import numpy as np

ARCHS = ("qwen35", "qwen35moe", "qwen3next")


def _silu(x):
    return x / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def _delta_net(h, W, p, g, eps, grouped):
    """Gated delta net over all T tokens from a zero state: [T, hidden] -> [T, hidden]."""
    T = h.shape[0]
    K, dk, Hk, Hv = g("ssm.conv_kernel"), g("ssm.state_size"), g("ssm.group_count"), g("ssm.time_step_rank")
    dv = g("ssm.inner_size") // Hv
    r = Hv // Hk
    qkv = h @ W[p + "attn_qkv.weight"].T  # [T, C]
    z = (h @ W[p + "attn_gate.weight"].T).reshape(T, Hv, dv)
    if p + "ssm_ba.weight" in W:
        ba = (h @ W[p + "ssm_ba.weight"].T).reshape(T, Hk, 2 * r)
        b, a = ba[..., :r].reshape(T, Hv), ba[..., r:].reshape(T, Hv)
    else:
        b, a = h @ W[p + "ssm_beta.weight"].T, h @ W[p + "ssm_alpha.weight"].T  # [T, Hv]
    beta = _sigmoid(b)
    decay = _softplus(a + W[p + "ssm_dt.bias"]) * W[p + "ssm_a"]  # log of the per-token decay
    conv_w = W[p + "ssm_conv1d.weight"].reshape(qkv.shape[1], K)  # [C, K]
    padded = np.concatenate([np.zeros((K - 1, qkv.shape[1])), qkv])  # [K - 1 + T, C]
    conv = sum(padded[j:j + T] * conv_w[:, j] for j in range(K))
    conv = _silu(conv)
    kd = Hk * dk
    q, k = conv[:, :kd].reshape(T, Hk, dk), conv[:, kd:2 * kd].reshape(T, Hk, dk)
    v = conv[:, 2 * kd:].reshape(T, Hv, dv)
    l2 = lambda x: x / np.sqrt((x * x).sum(-1, keepdims=True) + eps)
    q, k = l2(q) / np.sqrt(dk), l2(k)
    kh = np.arange(Hv) // r if grouped else np.arange(Hv) % Hk  # key head of each value head
    q, k = q[:, kh], k[:, kh]  # [T, Hv, dk]
    S = np.zeros((Hv, dk, dv))
    out = np.empty((T, Hv, dv))
    for t in range(T):
        S *= np.exp(decay[t])[:, None, None]
        delta = (v[t] - np.einsum("hk,hkv->hv", k[t], S)) * beta[t][:, None]
        S += k[t][:, :, None] * delta[:, None, :]
        out[t] = np.einsum("hk,hkv->hv", q[t], S)
    out = _rms(out, W[p + "ssm_norm.weight"], eps) * _silu(z)
    return out.reshape(T, Hv * dv) @ W[p + "ssm_out.weight"].T


def _gated_attention(h, W, p, g, eps, cos, sin, n_rot):
    T = h.shape[0]
    nh, nkv = g("attention.head_count"), g("attention.head_count_kv")
    hd = g("attention.key_length")
    qg = (h @ W[p + "attn_q.weight"].T).reshape(T, nh, 2 * hd)
    q, gate = qg[..., :hd], qg[..., hd:].reshape(T, nh * hd)
    k = (h @ W[p + "attn_k.weight"].T).reshape(T, nkv, hd)
    v = (h @ W[p + "attn_v.weight"].T).reshape(T, nkv, hd)
    q, k = _rms(q, W[p + "attn_q_norm.weight"], eps), _rms(k, W[p + "attn_k_norm.weight"], eps)

    def rope(x):  # NEOX pairs (i, i + n_rot/2) on the first n_rot dims
        a, b, rest = x[..., : n_rot // 2], x[..., n_rot // 2 : n_rot], x[..., n_rot:]
        return np.concatenate([a * cos - b * sin, a * sin + b * cos, rest], -1)

    q, k = rope(q), rope(k)
    k, v = np.repeat(k, nh // nkv, 1), np.repeat(v, nh // nkv, 1)
    s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + np.triu(np.full((T, T), -np.inf), 1)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    o = np.einsum("hts,shd->thd", s, v).reshape(T, nh * hd) * _sigmoid(gate)
    return o @ W[p + "attn_output.weight"].T


def _ffn(h, W, p, k_used, moe):
    if p + "ffn_gate_inp.weight" not in W:
        act = _silu(h @ W[p + "ffn_gate.weight"].T) * (h @ W[p + "ffn_up.weight"].T)
        return act @ W[p + "ffn_down.weight"].T
    shared = (_silu(h @ W[p + "ffn_gate_shexp.weight"].T) * (h @ W[p + "ffn_up_shexp.weight"].T))
    shared = shared @ W[p + "ffn_down_shexp.weight"].T
    gate = _sigmoid(h @ W[p + "ffn_gate_inp_shexp.weight"].reshape(-1))  # [T]
    return moe(h, W, p, k_used) + gate[:, None] * shared


def forward(arch, meta, W, tokens, moe, hidden=False):
    """Last-position logits [vocab] (or final-norm hidden [hidden]); `moe` is Qwen3 MoE's experts."""
    g = lambda key, d=None: meta.get(f"{arch}.{key}", d)
    L, eps = g("block_count"), g("attention.layer_norm_rms_epsilon")
    n_rot, theta = g("rope.dimension_count"), g("rope.freq_base")
    recurrent = g("attention.recurrent_layers")
    if recurrent is None:
        interval = g("full_attention_interval", 4)
        recurrent = [(i + 1) % interval != 0 for i in range(L)]
    T = len(tokens)
    ang = np.arange(T)[:, None] * theta ** (-np.arange(0, n_rot, 2) / n_rot)[None]
    cos, sin = np.cos(ang)[:, None], np.sin(ang)[:, None]  # [T, 1, n_rot/2]
    x = W["token_embd.weight"][tokens]  # [T, hidden]
    for i in range(L):
        p = f"blk.{i}."
        h = _rms(x, W[p + "attn_norm.weight"], eps)
        if recurrent[i]:
            x = x + _delta_net(h, W, p, g, eps, grouped=arch == "qwen3next")
        else:
            x = x + _gated_attention(h, W, p, g, eps, cos, sin, n_rot)
        h = _rms(x, W[p + "post_attention_norm.weight"], eps)
        x = x + _ffn(h, W, p, g("expert_used_count"), moe)
    last = _rms(x[-1], W["output_norm.weight"], eps)
    return last if hidden else last @ W.get("output.weight", W["token_embd.weight"]).T
