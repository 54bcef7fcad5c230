"""Converts a Hugging Face BERT directory (BertModel: model.safetensors, config.json,
tokenizer.json, sentence-transformers' 1_Pooling) into a GGUF that llama.cpp's `bert`
architecture loads, with the `gguf` package, numpy and safetensors only (no torch).

It writes what llama.cpp's convert_hf_to_gguf.py writes for `BertModel` (conversion/bert.py and
TextModel.set_gguf_parameters in llama.cpp 0.3.36's source):
- metadata: general.architecture "bert", block count, context length (max_position_embeddings),
  embedding / feed-forward length, head count, layer-norm eps, causal attention false, pooling
  type (from the sentence-transformers Pooling module), file type;
- vocabulary: tokenizer.ggml.model "bert" (llama.cpp's WPM tokenizer), the WordPiece tokens in
  llama.cpp's "phantom space" form (a word-start token `x` is stored as `\u2581x`, a continuation
  `##x` as `x`, control tokens as they are), token types (CONTROL for the special added tokens),
  token_type_count (type_vocab_size), and the special ids (CLS/BOS, SEP, UNK, PAD, MASK);
- tensors: HF names mapped by gguf's own TensorNameMap for MODEL_ARCH.BERT; position_ids and the
  pooler are dropped (llama.cpp computes embeddings with its own pooling).

Precision: `--outtype f32` (default) keeps the checkpoint's F32 weights as they are -- sluice
maps a safetensors F32 weight as F32 and multiplies in F32 -- so both engines compute in the same
precision class. `--outtype f16` stores the 2-D weights as F16 (norms, biases, position and token
type embeddings stay F32, as llama.cpp's converter does).

    .venv/bin/python bench/embeddings/hf_bert_to_gguf.py models/all-minilm-l6-v2 /tmp/minilm-f32.gguf
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

# 2-D tensors llama.cpp's converter keeps in F32 at any outtype (its graph adds them to F32 rows).
KEPT_F32 = ("position_embd.weight", "token_types.weight")
# HF tensors llama.cpp's BertModel converter leaves out (it pools on its own).
SKIPPED = ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias")


def pooling_type(model_dir: Path) -> gguf.PoolingType | None:
    """The pooling of the sentence-transformers Pooling module, as _try_set_pooling_type reads it."""
    modules = model_dir / "modules.json"
    if not modules.is_file():
        return None
    for mod in json.loads(modules.read_text()):
        if mod["type"].endswith("Pooling"):
            cfg = json.loads((model_dir / mod["path"] / "config.json").read_text())
            if cfg.get("pooling_mode_mean_tokens"):
                return gguf.PoolingType.MEAN
            if cfg.get("pooling_mode_cls_token"):
                return gguf.PoolingType.CLS
            if cfg.get("pooling_mode_lasttoken"):
                return gguf.PoolingType.LAST
            raise SystemExit(f"unsupported pooling config {cfg}")
    return None


def wordpiece_vocab(model_dir: Path, vocab_size: int) -> tuple[list[str], list[int]]:
    """Tokens (phantom-space form) and token types, as BertModel.set_vocab + get_vocab_base."""
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    if tok["model"]["type"] != "WordPiece":
        raise SystemExit(f"tokenizer.json model is {tok['model']['type']}, expected WordPiece")
    by_id = {i: t for t, i in tok["model"]["vocab"].items()}
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    for i, a in added.items():
        by_id[i] = a["content"]
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        t = by_id[i]
        if i in added:
            types.append(gguf.TokenType.CONTROL if added[i].get("special") else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        if types[-1] == gguf.TokenType.CONTROL:
            tokens.append(t)
        elif t.startswith("##"):
            tokens.append(t[2:])
        else:
            tokens.append("\u2581" + t)
    return tokens, types


def convert(model_dir: Path, out: Path, outtype: str) -> None:
    cfg = json.loads((model_dir / "config.json").read_text())
    if cfg.get("architectures", ["BertModel"])[0] not in ("BertModel", "BertForMaskedLM"):
        raise SystemExit(f"not a BertModel: {cfg.get('architectures')}")
    n_layer = cfg["num_hidden_layers"]
    arch = gguf.MODEL_ARCH.BERT
    w = gguf.GGUFWriter(out, gguf.MODEL_ARCH_NAMES[arch])
    ftype = gguf.LlamaFileType.ALL_F32 if outtype == "f32" else gguf.LlamaFileType.MOSTLY_F16

    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(model_dir.name)
    w.add_block_count(n_layer)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_causal_attention(False)
    if (pt := pooling_type(model_dir)) is not None:
        w.add_pooling_type(pt)
    w.add_file_type(ftype)

    tokens, types = wordpiece_vocab(model_dir, cfg["vocab_size"])
    w.add_token_type_count(cfg.get("type_vocab_size", 1))
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")  # llama.cpp ignores the pre-tokenizer name for WPM vocabularies
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(model_dir, n_vocab=len(tokens)).add_to_gguf(w)

    names = gguf.get_tensor_name_map(arch, n_layer)
    for name, data in sorted(load_file(model_dir / "model.safetensors").items()):
        name = name.removeprefix("bert.")
        if name in SKIPPED or name.startswith("cls."):
            continue
        new = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise SystemExit(f"no GGUF name for tensor {name}")
        data = data.astype(np.float32)
        if outtype == "f16" and data.ndim == 2 and new.endswith(".weight") and new not in KEPT_F32:
            data = data.astype(np.float16)
        w.add_tensor(new, data)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--outtype", choices=("f32", "f16"), default="f32")
    a = ap.parse_args(argv)
    convert(a.model_dir, a.out, a.outtype)
    print(f"wrote {a.out} ({a.out.stat().st_size / 2**20:.1f} MiB, {a.outtype})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
