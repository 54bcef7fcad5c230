#!/usr/bin/env python3
"""Reference: sentence embeddings of a BERT-family encoder directory in float64 NumPy, and the
relevance scores of a cross-encoder (BertForSequenceClassification, one label).

    python bert_embeddings.py MODEL_DIR < lines.jsonl > vectors.jsonl
    python bert_embeddings.py --rerank MODEL_DIR < pairs.jsonl > scores.jsonl

Each stdin line is a JSON string (tokenized by the HF `tokenizers` library from the directory's
tokenizer.json, special tokens added, no truncation or padding) or a list of token ids (used as
given). Each stdout line is the JSON list of the embedding. The model follows Hugging Face's
BertModel (absolute positions, token type 0, post-norm layers, exact erf GELU, LayerNorm with
config's eps), then sentence-transformers' modules.json: Pooling (mean / CLS / last token, from
1_Pooling/config.json) and Normalize (L2). Without modules.json: CLS pooling, normalized.

With --rerank each stdin line is a JSON [query, document] pair, encoded by HF `tokenizers` as a
pair ([CLS] q [SEP] d [SEP], token types 0 then 1) and truncated longest_first to
max_position_embeddings (sentence-transformers' CrossEncoder); each stdout line is
{"logit": l, "score": sigmoid(l), "ids": [...]}: the classifier over tanh(pooler(CLS row)).
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def erf(x):
    return np.vectorize(math.erf)(x)


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class Bert:
    def __init__(self, d):
        self.cfg = json.load(open(os.path.join(d, "config.json")))
        raw = load_file(os.path.join(d, "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""
        self.w = {k[len(prefix):]: v.astype(np.float64) for k, v in raw.items() if k.startswith(prefix)}
        self.head = {k: v.astype(np.float64) for k, v in raw.items() if k.startswith("classifier.")}
        self.pooling, self.normalize = "cls", True
        mods_path = os.path.join(d, "modules.json")
        if os.path.exists(mods_path):
            self.normalize = False
            for m in json.load(open(mods_path)):
                kind = m["type"].rsplit(".", 1)[-1]
                if kind == "Normalize":
                    self.normalize = True
                elif kind == "Pooling":
                    pc = json.load(open(os.path.join(d, m["path"], "config.json")))
                    self.pooling = ("mean" if pc.get("pooling_mode_mean_tokens") else
                                    "cls" if pc.get("pooling_mode_cls_token") else
                                    "last" if pc.get("pooling_mode_lasttoken") else None)
        self.tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()

    def hidden(self, ids, types=None):
        c, w = self.cfg, self.w
        eps = c.get("layer_norm_eps", 1e-12)
        heads = c["num_attention_heads"]
        n = len(ids)
        types = types if types is not None else [0] * n
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] +
             w["embeddings.token_type_embeddings.weight"][types])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            lin = lambda h, name: h @ w[p + name + ".weight"].T + w[p + name + ".bias"]
            q, k, v = (lin(x, "attention.self." + t).reshape(n, heads, -1).transpose(1, 0, 2)
                       for t in ("query", "key", "value"))
            s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
            s = np.exp(s - s.max(-1, keepdims=True))
            a = ((s / s.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, -1)
            x = layer_norm(x + lin(a, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], eps)
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
            x = layer_norm(x + lin(h, "output.dense"), w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], eps)
        return x

    def logit(self, ids, types):
        w = self.w
        pooled = np.tanh(w["pooler.dense.weight"] @ self.hidden(ids, types)[0] + w["pooler.dense.bias"])
        return float((self.head["classifier.weight"] @ pooled + self.head["classifier.bias"])[0])

    def embed(self, ids):
        x = self.hidden(ids)
        out = x.mean(0) if self.pooling == "mean" else x[0] if self.pooling == "cls" else x[-1]
        return out / max(np.linalg.norm(out), 1e-12) if self.normalize else out


def main():
    if sys.argv[1] == "--rerank":
        m = Bert(sys.argv[2])
        m.tok.enable_truncation(m.cfg.get("max_position_embeddings", 512), strategy="longest_first")
        for line in sys.stdin:
            q, d = json.loads(line)
            e = m.tok.encode(q, d)
            logit = m.logit(e.ids, e.type_ids)
            print(json.dumps({"logit": logit, "score": 1.0 / (1.0 + math.exp(-logit)), "ids": e.ids}))
        return
    m = Bert(sys.argv[1])
    for line in sys.stdin:
        v = json.loads(line)
        ids = m.tok.encode(v).ids if isinstance(v, str) else v
        print(json.dumps([float(f) for f in m.embed(ids)]))


if __name__ == "__main__":
    main()
