#!/usr/bin/env python3
"""Write a tiny random hybrid (gated delta net + attention) GGUF with llama.cpp's `gguf.GGUFWriter`.

    python gguf_py_random_hybrid.py --arch {qwen35,qwen35moe,qwen3next} --type {f32,f16,q8_0,q4_0} \
        --tokenizer-from SLUICE.gguf -o OUT.gguf [--seed N]

The weights are hybrid_random_weights.hf_weights (the same --seed gives the same model as
hf_random_qwen35.py writes), converted as llama.cpp's conversion/qwen.py does (see that module).
Metadata are the keys the converter writes for the architecture; qwen35moe also carries
`attention.recurrent_layers` (written when config.json has layer_types), the others only
`full_attention_interval`. Norms, 1-D tensors, routers, the shared-expert gate and the conv1d
kernel stay F32 as the converter keeps them; the rest is --type (`gguf.quants.quantize`).
Every `tokenizer.*` key is copied from --tokenizer-from; the vocabulary size is its token count.
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT, GGUFValueType  # noqa: E402

from gguf_lite import ARRAY, GgufLite  # noqa: E402
from gguf_py_random_model import TYPES  # noqa: E402
from hybrid_random_weights import ARCHS, F32_NAMES, SHAPE, hf_weights, is_moe, to_gguf  # noqa: E402


def read_tokenizer(src: str) -> list:
    """Every tokenizer.* key of src as (key, value, type, array item type); fast on big vocabularies."""
    f = GgufLite(src)
    out = []
    for key, value in f.metadata.items():
        if not key.startswith("tokenizer."):
            continue
        vtype, sub = f.kv_types[key], None
        if vtype == ARRAY:  # the item type follows the key string and the value type
            start = f.kv_spans[key][0]
            (klen,) = struct.unpack_from("<Q", f.buf, start)
            (sub,) = struct.unpack_from("<I", f.buf, start + 8 + klen + 4)
            sub = GGUFValueType(sub)
        out.append((key, value, GGUFValueType(vtype), sub))
    return out


def write_metadata(w: "gguf.GGUFWriter", arch: str) -> None:
    s = SHAPE
    w.add_block_count(s.layers)
    w.add_context_length(s.context)
    w.add_embedding_length(s.hidden)
    if arch != "qwen35moe":  # Qwen3.5-MoE's config has no intermediate_size
        w.add_feed_forward_length(s.ff)
    w.add_head_count(s.heads)
    w.add_head_count_kv(s.kv_heads)
    if arch != "qwen3next":  # from rope_parameters.mrope_section, padded to 4
        w.add_rope_dimension_sections(list(s.mrope_section) + [0])
    w.add_rope_freq_base(s.rope_theta)
    w.add_layer_norm_rms_eps(s.rms_eps)
    if is_moe(arch):
        w.add_expert_count(s.experts)
        w.add_expert_used_count(s.experts_used)
    w.add_key_length(s.head_dim)
    w.add_value_length(s.head_dim)
    if is_moe(arch):
        w.add_expert_feed_forward_length(s.expert_ff)
        w.add_expert_shared_feed_forward_length(s.shared_ff)
    w.add_ssm_conv_kernel(s.conv_kernel)
    w.add_ssm_state_size(s.k_dim)
    w.add_ssm_group_count(s.k_heads)
    w.add_ssm_time_step_rank(s.v_heads)
    w.add_ssm_inner_size(s.value_dim)
    if arch == "qwen35moe":
        recurrent = [s.is_linear(i) for i in range(s.layers)]
        w.add_array(f"{arch}.attention.recurrent_layers", recurrent)
    w.add_full_attention_interval(s.full_attention_interval)
    w.add_rope_dimension_count(s.rope_dims)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True, choices=ARCHS)
    ap.add_argument("--type", required=True, choices=list(TYPES))
    ap.add_argument("--tokenizer-from", required=True, help="a GGUF whose tokenizer.* keys are copied")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    arch, (qtype, ftype) = args.arch, TYPES[args.type]

    tokenizer = read_tokenizer(args.tokenizer_from)
    n_vocab = next((len(v) for k, v, _, _ in tokenizer if k == "tokenizer.ggml.tokens"), 0)
    if not n_vocab:
        raise SystemExit(f"{args.tokenizer_from}: no tokenizer.ggml.tokens")

    w = gguf.GGUFWriter(args.output, arch)
    w.add_name(f"gguf-py-random-{arch}-{args.type}")
    write_metadata(w, arch)
    w.add_file_type(ftype)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for key, value, vtype, sub in tokenizer:  # after the hyperparameters, as the converter does
        w.add_key_value(key, value, vtype, sub_type=sub)

    for name, a in to_gguf(arch, hf_weights(arch, n_vocab, args.seed)):
        keep_f32 = a.ndim <= 1 or name.endswith("_norm.weight") or name.endswith(F32_NAMES)
        keep_f32 = keep_f32 or not name.endswith(".weight")  # ssm_a, ssm_dt.bias
        if keep_f32 or qtype == QT.F32:
            w.add_tensor(name, a)
        elif qtype == QT.F16:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(a, qtype), raw_dtype=qtype)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
