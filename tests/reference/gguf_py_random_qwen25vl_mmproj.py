#!/usr/bin/env python3
"""Write a random Qwen2.5-VL (or Qwen2-VL) vision tower (mmproj GGUF) with llama.cpp's
`gguf.GGUFWriter`, as its converter (conversion/qwenvl.py Qwen2VLVisionModel over
conversion/base.py MmprojModel) would.

    python gguf_py_random_qwen25vl_mmproj.py --projection-dim N -o OUT.gguf \\
        [--type f32|f16|q8_0] [--preset small|qwen25vl-7b|qwen2vl-small|qwen2vl-2b] [--layers L] \\
        [--seed S] [--legacy-ffn-names] [--projector-type T] [--drop-key KEY]

The weights are numpy draws in transformers' names and layouts (visual.*: the Conv3d patch
embedding [hidden, 3, 2, P, P], fused attn.qkv, mlp.gate_proj/up_proj/down_proj or mlp.fc1/fc2,
merger.ln_q and merger.mlp.0/2), converted the converter's way: qkv split into q, k, v; the Conv3d
split into its two frames (v.patch_embd.weight and .weight.1, F16 in F16 files, else F32); other
names by gguf's tensor map; 1-D tensors F32; other matrices --type with the converter's F16
fallback for rows Q8_0 cannot split. Keys as the converter writes them, including its quirk for
Qwen2-VL: feed_forward_length is the config's hidden_size (the text width), not the MLP's.
Presets: small (Qwen2.5-VL shape: width 80, 4 heads of 20 (odd RoPE quarters), MLP 136, 3
layers, fullatt_block_indexes [2]), qwen25vl-7b (width 1280, 16 heads, MLP 3420, 32 layers, every
8th global), qwen2vl-small (width 64, 4 heads, MLP 256, 2 layers) and qwen2vl-2b (Qwen2-VL's
tower: width 1280, 16 heads, MLP 5120, 32 layers). --legacy-ffn-names writes up as ffn_down and
down as ffn_up, as Qwen2-VL's old surgery script did (llama.cpp swaps them back by shape).
--projector-type and --drop-key make malformed files for tests.
"""
import argparse
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

PRESETS = {  # qwen2.5?, hidden, ffn, layers, heads, fullatt_block_indexes
    "small": (True, 80, 136, 3, 4, [2]),
    "qwen25vl-7b": (True, 1280, 3420, 32, 16, [7, 15, 23, 31]),
    "qwen2vl-small": (False, 48, 192, 2, 4, []),
    "qwen2vl-2b": (False, 1280, 5120, 32, 16, []),
}
PATCH = 14
TYPES = {"f32": (QT.F32, gguf.LlamaFileType.ALL_F32), "f16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
         "q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0)}


def hf_weights(preset: str, layers: int, proj: int, seed: int) -> dict:
    """transformers' state dict of the visual tower (Qwen2_5_VisionTransformerPretrainedModel or
    Qwen2VisionTransformerPretrainedModel)."""
    v25, h, f, _, _, _ = PRESETS[preset]
    rng = np.random.default_rng(seed)
    n = lambda *shape, std=1.0, mean=0.0: (mean + std * rng.standard_normal(shape)).astype(np.float32)
    w = {"visual.patch_embed.proj.weight": n(h, 3, 2, PATCH, PATCH, std=(3 * 2 * PATCH * PATCH) ** -0.5)}
    for i in range(layers):
        p = f"visual.blocks.{i}."
        for norm in ("norm1", "norm2"):
            w[p + norm + ".weight"] = n(h, std=0.1, mean=1.0)
            if not v25:
                w[p + norm + ".bias"] = n(h, std=0.1)
        qkv = np.concatenate([n(h, h, std=1.5 / h**0.5), n(h, h, std=1.5 / h**0.5), n(h, h, std=h**-0.5)])
        w[p + "attn.qkv.weight"], w[p + "attn.qkv.bias"] = qkv, n(3 * h, std=0.1)
        w[p + "attn.proj.weight"], w[p + "attn.proj.bias"] = n(h, h, std=h**-0.5), n(h, std=0.1)
        ups = ("gate_proj", "up_proj") if v25 else ("fc1",)
        for m in ups:
            w[f"{p}mlp.{m}.weight"], w[f"{p}mlp.{m}.bias"] = n(f, h, std=h**-0.5), n(f, std=0.1)
        down = "down_proj" if v25 else "fc2"
        w[f"{p}mlp.{down}.weight"], w[f"{p}mlp.{down}.bias"] = n(h, f, std=f**-0.5), n(h, std=0.1)
    w["visual.merger.ln_q.weight"] = n(h, std=0.1, mean=1.0)
    if not v25:
        w["visual.merger.ln_q.bias"] = n(h, std=0.1)
    w["visual.merger.mlp.0.weight"], w["visual.merger.mlp.0.bias"] = n(4 * h, 4 * h, std=(4 * h) ** -0.5), n(4 * h, std=0.1)
    w["visual.merger.mlp.2.weight"], w["visual.merger.mlp.2.bias"] = n(proj, 4 * h, std=2 * (4 * h) ** -0.5), n(proj, std=0.1)
    return w


def converted(name: str, a: np.ndarray):
    """Qwen2VLVisionModel.modify_tensors: (gguf-bound name or HF name, array) pairs."""
    if ".qkv." in name:
        c = a.shape[0] // 3
        for j, m in enumerate("qkv"):
            yield name.replace("qkv", m), a[j * c:(j + 1) * c]
    elif "patch_embed.proj.weight" in name:
        yield "v.patch_embd.weight", a[:, :, 0]
        yield "v.patch_embd.weight.1", a[:, :, 1]
    else:
        yield name, a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projection-dim", type=int, required=True, help="the text model's hidden size")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--type", default="f16", choices=list(TYPES))
    ap.add_argument("--preset", default="small", choices=list(PRESETS))
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--legacy-ffn-names", action="store_true")
    ap.add_argument("--projector-type", default="")
    ap.add_argument("--drop-key", default="")
    args = ap.parse_args()
    v25, h, f, layers, heads, fullatt = PRESETS[args.preset]
    layers = args.layers or layers
    qtype, ftype = TYPES[args.type]
    ptype = args.projector_type or (gguf.VisionProjectorType.QWEN25VL if v25 else gguf.VisionProjectorType.QWEN2VL)

    w = gguf.GGUFWriter(args.output, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.MMPROJ])
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_name(f"gguf-py-random-qwen-vl-mmproj-{args.preset}")
    keys = [  # MmprojModel.set_gguf_parameters, then Qwen2VLVisionModel's
        ("general.file_type", lambda: w.add_file_type(ftype)),
        ("clip.has_vision_encoder", lambda: w.add_clip_has_vision_encoder(True)),
        ("clip.vision.projection_dim", lambda: w.add_vision_projection_dim(args.projection_dim)),
        ("clip.vision.image_size", lambda: w.add_vision_image_size(560)),  # the converter's default
        ("clip.vision.patch_size", lambda: w.add_vision_patch_size(PATCH)),
        ("clip.vision.embedding_length", lambda: w.add_vision_embedding_length(h)),
        # Qwen2-VL: the converter writes the config's hidden_size (the text width) here
        ("clip.vision.feed_forward_length", lambda: w.add_vision_feed_forward_length(f if v25 else args.projection_dim)),
        ("clip.vision.block_count", lambda: w.add_vision_block_count(layers)),
        ("clip.vision.attention.head_count", lambda: w.add_vision_head_count(heads)),
        ("clip.vision.image_mean", lambda: w.add_vision_image_mean([0.48145466, 0.4578275, 0.40821073])),
        ("clip.vision.image_std", lambda: w.add_vision_image_std([0.26862954, 0.26130258, 0.27577711])),
        ("clip.projector_type", lambda: w.add_clip_projector_type(ptype)),
    ]
    if v25:
        keys += [("clip.use_silu", lambda: w.add_vision_use_silu(True)),
                 ("clip.vision.n_wa_pattern", lambda: w.add_vision_n_wa_pattern(fullatt[0] + 1))]
    keys.append(("clip.vision.attention.layer_norm_epsilon", lambda: w.add_vision_attention_layernorm_eps(1e-6)))
    for key, add in keys:
        if key != args.drop_key:
            add()
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    # the merger's mlp.2 is block id 2 of the map: real towers have far more than 3 layers
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, max(layers, 3))
    for hf_name, hf_array in hf_weights(args.preset, layers, args.projection_dim, args.seed).items():
        for name, a in converted(hf_name, hf_array):
            new = name if name.startswith("v.patch_embd") else tmap.get_name(name, try_suffixes=(".weight", ".bias"))
            if args.legacy_ffn_names and ".ffn_" in new:
                new = new.replace(".ffn_up.", ".ffn_tmp.").replace(".ffn_down.", ".ffn_up.").replace(".ffn_tmp.", ".ffn_down.")
            if ".patch_embd.weight" in new:  # MmprojModel.tensor_force_quant
                t = QT.F16 if ftype == gguf.LlamaFileType.MOSTLY_F16 else QT.F32
            elif a.ndim <= 1 or new[-7:] != ".weight":
                t = QT.F32
            else:
                t = qtype
            try:
                data = gguf.quants.quantize(np.ascontiguousarray(a), t)
            except gguf.QuantError:
                t, data = QT.F16, gguf.quants.quantize(np.ascontiguousarray(a), QT.F16)
            w.add_tensor(new, data, raw_dtype=t)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
