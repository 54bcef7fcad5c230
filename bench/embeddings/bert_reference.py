"""A float64 NumPy forward of a Hugging Face BertModel with sentence-transformers' mean pooling and
normalization (all-MiniLM-L6-v2's pipeline): the reference the benchmark checks both servers'
embeddings against. Tokenization is the model's own tokenizer.json through HF `tokenizers`."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

_erf = np.frompyfunc(math.erf, 1, 1)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:  # HF "gelu": the exact, erf form
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


class BertReference:
    def __init__(self, model_dir: Path):
        self.cfg = json.loads((model_dir / "config.json").read_text())
        if self.cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"hidden_act {self.cfg['hidden_act']} not handled")
        self.w = {k.removeprefix("bert."): v.astype(np.float64)
                  for k, v in load_file(model_dir / "model.safetensors").items() if v.dtype.kind == "f"}
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.no_truncation()

    def token_ids(self, text: str) -> list[int]:
        return self.tok.encode(text).ids  # [CLS] ... [SEP]

    def hidden(self, ids: list[int]) -> np.ndarray:
        w, c = self.w, self.cfg
        eps, heads = c["layer_norm_eps"], c["num_attention_heads"]
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)

        def lin(name: str, v: np.ndarray) -> np.ndarray:
            return v @ w[name + ".weight"].T + w[name + ".bias"]

        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            d = x.shape[1] // heads
            q, k, v = (lin(p + "attention.self." + s, x).reshape(n, heads, d).transpose(1, 0, 2)
                       for s in ("query", "key", "value"))
            s = q @ k.transpose(0, 2, 1) / math.sqrt(d)  # bidirectional: no mask for one sequence
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
            x = _layer_norm(x + lin(p + "attention.output.dense", a),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            h = lin(p + "output.dense", _gelu(lin(p + "intermediate.dense", x)))
            x = _layer_norm(x + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x

    def embed(self, text: str) -> np.ndarray:
        """Mean over all tokens ([CLS] and [SEP] included, as sentence-transformers with no
        padding), then L2-normalized."""
        e = self.hidden(self.token_ids(text)).mean(0)
        return e / np.linalg.norm(e)


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
