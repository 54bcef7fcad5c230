#!/usr/bin/env python3
"""Write a tiny random Qwen3.5 / Qwen3.5-MoE / Qwen3-Next model directory as transformers lays it out.

    python hf_random_qwen35.py --arch {qwen35,qwen35moe,qwen3next} --tokenizer-dir DIR -o OUT_DIR \
        [--seed N] [--dtype bf16|f32] [--vocab-size N]

Same weights as gguf_py_random_hybrid.py for the same --seed and vocabulary size (see
hybrid_random_weights.py). Layout as published:
  qwen35     config model_type "qwen3_5" (Qwen3_5ForConditionalGeneration) with the text model
             under "text_config" (model_type "qwen3_5_text"); tensors "model.language_model.*",
             lm_head.weight (untied, as Qwen3.5-9B);
  qwen35moe  the same with "qwen3_5_moe" / "qwen3_5_moe_text"; experts fused per layer:
             mlp.experts.gate_up_proj [E, 2 x moe_ff, hidden] (gate rows first),
             mlp.experts.down_proj [E, hidden, moe_ff]; lm_head.weight;
  qwen3next  a flat config, model_type "qwen3_next" (Qwen3NextForCausalLM); tensors "model.*",
             one tensor per expert (mlp.experts.N.{gate,up,down}_proj.weight); lm_head.weight.
The tokenizer files of --tokenizer-dir (a sluice-made or published model directory) are copied;
the vocabulary size is its config.json's vocab_size unless --vocab-size is given.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hybrid_random_weights import ARCHS, SHAPE, hf_weights, is_moe, tied  # noqa: E402

NOT_TOKENIZER = ("config.json", "model.safetensors.index.json")


def write_safetensors(path: str, tensors: dict, dtype: str) -> None:
    """A safetensors file of float32 arrays stored as BF16 (exact for these values) or F32."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        assert dtype != "bf16" or not (a.view(np.uint32) & 0xFFFF).any(), f"{name}: not bf16 values"
        bf16 = (a.view(np.uint32) >> 16).astype("<u2")
        raw = bf16.tobytes() if dtype == "bf16" else a.astype("<f4").tobytes()
        header[name] = {"dtype": "BF16" if dtype == "bf16" else "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for raw in blobs:
            f.write(raw)


def text_config(arch: str, n_vocab: int) -> dict:
    s = SHAPE
    c = {
        "vocab_size": n_vocab, "hidden_size": s.hidden, "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads, "num_key_value_heads": s.kv_heads, "head_dim": s.head_dim,
        "hidden_act": "silu", "max_position_embeddings": s.context, "rms_norm_eps": s.rms_eps,
        "attention_bias": False, "tie_word_embeddings": tied(arch),
        "linear_conv_kernel_dim": s.conv_kernel, "linear_key_head_dim": s.k_dim,
        "linear_value_head_dim": s.v_dim, "linear_num_key_heads": s.k_heads,
        "linear_num_value_heads": s.v_heads, "full_attention_interval": s.full_attention_interval,
    }
    if arch != "qwen35moe":
        c["intermediate_size"] = s.ff
    if is_moe(arch):
        c.update(num_experts=s.experts, num_experts_per_tok=s.experts_used,
                 moe_intermediate_size=s.expert_ff, shared_expert_intermediate_size=s.shared_ff)
    if arch == "qwen3next":  # the published config.json: flat rope keys, every MoE key
        c.update(model_type="qwen3_next", architectures=["Qwen3NextForCausalLM"],
                 rope_theta=s.rope_theta, partial_rotary_factor=s.partial_rotary,
                 decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=True)
        return c  # Qwen3-Next's config.json has full_attention_interval, no layer_types
    c["layer_types"] = ["linear_attention" if s.is_linear(i) else "full_attention"
                        for i in range(s.layers)]
    c["model_type"] = "qwen3_5_moe_text" if arch == "qwen35moe" else "qwen3_5_text"
    c["attn_output_gate"] = True
    c["rope_parameters"] = {"rope_type": "default", "rope_theta": s.rope_theta,
                            "partial_rotary_factor": s.partial_rotary,
                            "mrope_section": list(s.mrope_section), "mrope_interleaved": True}
    return c


def config(arch: str, n_vocab: int, dtype: str) -> dict:
    text = text_config(arch, n_vocab)
    text["dtype"] = "bfloat16" if dtype == "bf16" else "float32"
    if arch == "qwen3next":
        return text
    moe = arch == "qwen35moe"
    architecture = "Qwen3_5MoeForConditionalGeneration" if moe else "Qwen3_5ForConditionalGeneration"
    return {"architectures": [architecture],
            "model_type": "qwen3_5_moe" if moe else "qwen3_5", "tie_word_embeddings": tied(arch),
            "text_config": text}


def published_names(arch: str, w: dict) -> dict:
    """qwen35*: the text model lives under model.language_model (lm_head stays at the top)."""
    if arch == "qwen3next":
        return w
    return {("model.language_model." + k[len("model."):] if k.startswith("model.") else k): v
            for k, v in w.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True, choices=ARCHS)
    ap.add_argument("--tokenizer-dir", required=True, help="directory whose tokenizer files are copied")
    ap.add_argument("-o", "--output", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--vocab-size", type=int, help="default: --tokenizer-dir's config.json vocab_size")
    args = ap.parse_args()

    n_vocab = args.vocab_size
    if n_vocab is None:
        with open(os.path.join(args.tokenizer_dir, "config.json")) as f:
            src = json.load(f)
        n_vocab = src.get("vocab_size") or src.get("text_config", {}).get("vocab_size")
    os.makedirs(args.output, exist_ok=True)
    for name in os.listdir(args.tokenizer_dir):
        path = os.path.join(args.tokenizer_dir, name)
        if os.path.isfile(path) and name not in NOT_TOKENIZER and not name.endswith(".safetensors"):
            shutil.copyfile(path, os.path.join(args.output, name))
    with open(os.path.join(args.output, "config.json"), "w") as f:
        json.dump(config(args.arch, n_vocab, args.dtype), f, indent=2)
    weights = published_names(args.arch, hf_weights(args.arch, n_vocab, args.seed))
    write_safetensors(os.path.join(args.output, "model.safetensors"), weights, args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
