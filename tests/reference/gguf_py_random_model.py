#!/usr/bin/env python3
"""Write a small random-weight GGUF with llama.cpp's own Python writer (`gguf.GGUFWriter`).

    python gguf_py_random_model.py --arch {llama,qwen2vl,qwen3,qwen3moe,qwen3vl,qwen3vlmoe} \
        --type {f32,f16,q8_0,q4_0} \
        --tokenizer-from SLUICE.gguf -o OUT.gguf [--seed N]

Tensor names, shapes and metadata follow what llama.cpp's convert_hf_to_gguf.py writes for the
architecture; quantized types use `gguf.quants.quantize`. Norms and the MoE router stay F32, as
the converter keeps them. Every `tokenizer.*` key is copied from --tokenizer-from (read with
`gguf.GGUFReader`); the vocabulary size is its token count. llama's q/k rows are not permuted
(the weights are random, so they already are in llama.cpp's NORM rope order). qwen2vl (Qwen2-VL's
and Qwen2.5-VL's language model, as Qwen2VLModel writes it): q/k/v biases, no q/k norms, an
untied output and `rope.dimension_sections` = Qwen2-VL's [16, 24, 24] scaled to the head, padded
with a 0. qwen3vl / qwen3vlmoe (Qwen3-VL's language model, as Qwen3VLTextModel and
Qwen3VLMoeTextModel write it): Qwen3's / Qwen3 MoE's tensors, `rope.dimension_sections` = Qwen3-VL's
[24, 20, 20] scaled to the head, padded with a 0, and `n_deepstack_layers` = 3 (4 layers).
"""
import argparse
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT, GGUFValueType, LlamaFileType

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FF = 256, 2, 4, 2, 64, 512
EXPERTS, EXPERTS_USED, EXPERT_FF = 8, 2, 256
TYPES = {"f32": (QT.F32, LlamaFileType.ALL_F32), "f16": (QT.F16, LlamaFileType.MOSTLY_F16),
         "q8_0": (QT.Q8_0, LlamaFileType.MOSTLY_Q8_0), "q4_0": (QT.Q4_0, LlamaFileType.MOSTLY_Q4_0)}
ROPE_BASE = {"llama": 10000.0, "qwen2vl": 1000000.0, "qwen3": 1000000.0, "qwen3moe": 1000000.0,
             "qwen3vl": 5000000.0, "qwen3vlmoe": 5000000.0}
DEEPSTACK = 3  # Qwen3-VL's deepstack layers (its vision tower's deepstack_visual_indexes)


def read_tokenizer(src: str) -> list:
    """Every tokenizer.* key of src as (key, value, type, array item type), read with gguf_lite
    (gguf.GGUFReader takes ~11 s on a 150k-token vocabulary)."""
    from gguf_lite import ARRAY, GgufLite

    f, out = GgufLite(src), []
    for key, value in f.metadata.items():
        if not key.startswith("tokenizer."):
            continue
        vtype, sub = f.kv_types[key], None
        if vtype == ARRAY:  # key length, key, value type, then the array's item type
            start = f.kv_spans[key][0]
            key_len = struct.unpack_from("<Q", f.buf, start)[0]
            sub = GGUFValueType(struct.unpack_from("<I", f.buf, start + 8 + key_len + 4)[0])
        out.append((key, value, GGUFValueType(vtype), sub))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True, choices=sorted(ROPE_BASE))
    ap.add_argument("--type", required=True, choices=list(TYPES))
    ap.add_argument("--tokenizer-from", required=True, help="a GGUF whose tokenizer.* keys are copied")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    arch, (qtype, ftype) = args.arch, TYPES[args.type]
    qwen3vl = arch.startswith("qwen3vl")
    moe = arch in ("qwen3moe", "qwen3vlmoe")
    layers = DEEPSTACK + 1 if qwen3vl else LAYERS
    rng = np.random.default_rng(args.seed)

    w = gguf.GGUFWriter(args.output, arch)
    w.add_name(f"gguf-py-random-{arch}-{args.type}")
    tokenizer = read_tokenizer(args.tokenizer_from)
    n_vocab = next((len(v) for k, v, _, _ in tokenizer if k == "tokenizer.ggml.tokens"), 0)
    if not n_vocab:
        raise SystemExit(f"{args.tokenizer_from}: no tokenizer.ggml.tokens")
    if arch == "llama":  # LlamaModel also writes these two
        w.add_vocab_size(n_vocab)
        w.add_rope_dimension_count(HEAD_DIM)
    w.add_context_length(4096)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(layers)
    w.add_feed_forward_length(FF)  # the dense size, unused by qwen3moe (as in Qwen3-30B-A3B's file)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_freq_base(ROPE_BASE[arch])
    w.add_layer_norm_rms_eps(1e-6)
    if arch == "qwen2vl":  # sections of the HEAD_DIM / 2 rotated pairs
        t = HEAD_DIM // 8
        w.add_rope_dimension_sections([t, (HEAD_DIM // 2 - t) // 2, (HEAD_DIM // 2 - t) // 2, 0])
    if qwen3vl:  # [24, 20, 20] of 64 pairs, scaled to the head
        hw = HEAD_DIM // 2 * 5 // 16
        w.add_rope_dimension_sections([HEAD_DIM // 2 - 2 * hw, hw, hw, 0])
        w.add_num_deepstack_layers(DEEPSTACK)
    if moe:
        w.add_expert_count(EXPERTS)
        w.add_expert_used_count(EXPERTS_USED)
        w.add_expert_feed_forward_length(EXPERT_FF)
    w.add_file_type(ftype)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for key, value, vtype, sub in tokenizer:  # after the hyperparameters, as the converter does
        w.add_key_value(key, value, vtype, sub_type=sub)

    def weight(name, shape, std, keep_f32=False):  # shape in numpy order, rows = last axis
        a = (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)
        if keep_f32 or qtype == QT.F32:
            w.add_tensor(name, a)
        elif qtype == QT.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(a, qtype), raw_dtype=qtype)

    def norm(name, n):
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    res = 1.0 / np.sqrt(2 * layers)  # residual writers are scaled down further
    weight("token_embd.weight", (n_vocab, HIDDEN), 1.0)
    for i in range(layers):
        p = f"blk.{i}."
        norm(p + "attn_norm.weight", HIDDEN)
        weight(p + "attn_q.weight", (HEADS * HEAD_DIM, HIDDEN), HIDDEN ** -0.5)
        weight(p + "attn_k.weight", (KV_HEADS * HEAD_DIM, HIDDEN), HIDDEN ** -0.5)
        weight(p + "attn_v.weight", (KV_HEADS * HEAD_DIM, HIDDEN), HIDDEN ** -0.5)
        if arch == "qwen2vl":
            for name, rows in (("q", HEADS), ("k", KV_HEADS), ("v", KV_HEADS)):
                w.add_tensor(p + f"attn_{name}.bias",
                             (0.1 * rng.standard_normal(rows * HEAD_DIM)).astype(np.float32))
        elif arch != "llama":
            norm(p + "attn_q_norm.weight", HEAD_DIM)
            norm(p + "attn_k_norm.weight", HEAD_DIM)
        weight(p + "attn_output.weight", (HIDDEN, HEADS * HEAD_DIM), (HEADS * HEAD_DIM) ** -0.5 * res)
        norm(p + "ffn_norm.weight", HIDDEN)
        if moe:
            weight(p + "ffn_gate_inp.weight", (EXPERTS, HIDDEN), HIDDEN ** -0.5, keep_f32=True)
            weight(p + "ffn_gate_exps.weight", (EXPERTS, EXPERT_FF, HIDDEN), HIDDEN ** -0.5)
            weight(p + "ffn_up_exps.weight", (EXPERTS, EXPERT_FF, HIDDEN), HIDDEN ** -0.5)
            weight(p + "ffn_down_exps.weight", (EXPERTS, HIDDEN, EXPERT_FF), EXPERT_FF ** -0.5 * res)
        else:
            weight(p + "ffn_gate.weight", (FF, HIDDEN), HIDDEN ** -0.5)
            weight(p + "ffn_up.weight", (FF, HIDDEN), HIDDEN ** -0.5)
            weight(p + "ffn_down.weight", (HIDDEN, FF), FF ** -0.5 * res)
    norm("output_norm.weight", HIDDEN)
    if arch in ("llama", "qwen2vl", "qwen3vlmoe"):  # untied; qwen3, qwen3moe, qwen3vl: tied
        weight("output.weight", (n_vocab, HIDDEN), HIDDEN ** -0.5)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
