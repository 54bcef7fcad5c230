#!/usr/bin/env python3
"""Write a random Qwen3-VL vision tower (mmproj GGUF) with llama.cpp's `gguf.GGUFWriter`, as its
converter (conversion/qwen3vl.py Qwen3VLVisionModel over conversion/base.py MmprojModel) would.

    python gguf_py_random_qwen3vl_mmproj.py --projection-dim N -o OUT.gguf \\
        [--type f32|f16|q8_0] [--preset small|qwen3vl-8b] [--layers L] [--seed S] \\
        [--no-deepstack-key] [--drop-key KEY] [--drop-tensor NAME]

The weights are numpy draws in transformers' names and layouts (Qwen3VLVisionModel: the Conv3d
patch embedding [hidden, 3, 2, P, P] with bias, pos_embed [side^2, hidden], blocks.N.norm1/norm2
(LayerNorm), fused attn.qkv, attn.proj, mlp.linear_fc1/linear_fc2, merger.norm/linear_fc1/
linear_fc2 and deepstack_merger_list.K.*), converted the converter's way: the Conv3d split into
its two frames (v.patch_embd.weight and .weight.1, F16 in F16 files, else F32), qkv kept fused
(v.blk.N.attn_qkv), the merger to v.post_ln, mm.0 and mm.2, deepstack merger K to
v.deepstack.{deepstack_visual_indexes[K]}.{norm,fc1,fc2}, the position table F32, other names by
gguf's tensor map; 1-D tensors F32; other matrices --type with the converter's F16 fallback for
rows Q8_0 cannot split. Keys as the converter writes them, clip.vision.is_deepstack_layers
included (--no-deepstack-key leaves it out: llama.cpp finds the layers by their tensors).
Presets: small (width 80, 4 heads of 20, MLP 136, 3 layers, deepstack [0, 1], a 5 x 5 position
grid) and qwen3vl-8b (width 1152, 16 heads, MLP 4304, 27 layers, deepstack [8, 16, 24], 48 x 48).
--drop-key and --drop-tensor make malformed files for tests.
"""
import argparse
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

PRESETS = {  # hidden, ffn, layers, heads, deepstack_visual_indexes, position grid side
    "small": (80, 136, 3, 4, [0, 1], 5),
    "qwen3vl-8b": (1152, 4304, 27, 16, [8, 16, 24], 48),
}
PATCH = 16
TYPES = {"f32": (QT.F32, gguf.LlamaFileType.ALL_F32), "f16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
         "q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0)}


def hf_weights(h, f, layers, deepstack, side, proj, seed) -> dict:
    """transformers' state dict of the visual tower (Qwen3VLVisionModel)."""
    rng = np.random.default_rng(seed)
    n = lambda *shape, std=1.0, mean=0.0: (mean + std * rng.standard_normal(shape)).astype(np.float32)
    m = 4 * h
    w = {"visual.patch_embed.proj.weight": n(h, 3, 2, PATCH, PATCH, std=0.7 * (3 * 2 * PATCH * PATCH) ** -0.5),
         "visual.patch_embed.proj.bias": n(h, std=0.1),
         "visual.pos_embed.weight": n(side * side, h, std=0.5)}
    for i in range(layers):
        p = f"visual.blocks.{i}."
        for norm in ("norm1", "norm2"):
            w[p + norm + ".weight"], w[p + norm + ".bias"] = n(h, std=0.1, mean=1.0), n(h, std=0.1)
        qkv = np.concatenate([n(h, h, std=1.5 / h**0.5), n(h, h, std=1.5 / h**0.5), n(h, h, std=h**-0.5)])
        w[p + "attn.qkv.weight"], w[p + "attn.qkv.bias"] = qkv, n(3 * h, std=0.1)
        w[p + "attn.proj.weight"], w[p + "attn.proj.bias"] = n(h, h, std=h**-0.5), n(h, std=0.1)
        w[p + "mlp.linear_fc1.weight"], w[p + "mlp.linear_fc1.bias"] = n(f, h, std=h**-0.5), n(f, std=0.1)
        w[p + "mlp.linear_fc2.weight"], w[p + "mlp.linear_fc2.bias"] = n(h, f, std=f**-0.5), n(h, std=0.1)
    mergers = [("visual.merger.", h)] + [(f"visual.deepstack_merger_list.{k}.", m) for k in range(len(deepstack))]
    for p, norm in mergers:
        w[p + "norm.weight"], w[p + "norm.bias"] = n(norm, std=0.1, mean=1.0), n(norm, std=0.1)
        w[p + "linear_fc1.weight"], w[p + "linear_fc1.bias"] = n(m, m, std=m**-0.5), n(m, std=0.1)
        w[p + "linear_fc2.weight"], w[p + "linear_fc2.bias"] = n(proj, m, std=2 * m**-0.5), n(proj, std=0.1)
    return w


def converted(name: str, a: np.ndarray, deepstack, tmap):
    """Qwen3VLVisionModel.modify_tensors: (gguf name, array) pairs."""
    if name == "visual.patch_embed.proj.weight":
        yield "v.patch_embd.weight", a[:, :, 0]
        yield "v.patch_embd.weight.1", a[:, :, 1]
    elif name == "visual.patch_embed.proj.bias":
        yield "v.patch_embd.bias", a
    elif name.startswith("visual.deepstack_merger_list."):
        k, rest = name.split(".", 3)[2:]
        part, suffix = rest.split(".", 1)
        kind = {"norm": gguf.MODEL_TENSOR.V_DS_NORM, "linear_fc1": gguf.MODEL_TENSOR.V_DS_FC1,
                "linear_fc2": gguf.MODEL_TENSOR.V_DS_FC2}[part]
        yield gguf.TENSOR_NAMES[kind].format(bid=deepstack[int(k)]) + "." + suffix, a
    elif name.startswith("visual.merger."):
        part, suffix = name.split(".", 2)[2].split(".", 1)
        base = {"norm": "v.post_ln", "linear_fc1": "mm.0", "linear_fc2": "mm.2"}[part]
        yield base + "." + suffix, a
    else:
        yield tmap.get_name(name, try_suffixes=(".weight", ".bias")), a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projection-dim", type=int, required=True, help="the text model's hidden size")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--type", default="f16", choices=list(TYPES))
    ap.add_argument("--preset", default="small", choices=list(PRESETS))
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-deepstack-key", action="store_true")
    ap.add_argument("--drop-key", default="")
    ap.add_argument("--drop-tensor", default="")
    args = ap.parse_args()
    h, f, layers, heads, deepstack, side = PRESETS[args.preset]
    layers = args.layers or layers
    deepstack = [i for i in deepstack if i < layers]
    qtype, ftype = TYPES[args.type]

    w = gguf.GGUFWriter(args.output, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.MMPROJ])
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_name(f"gguf-py-random-qwen3vl-mmproj-{args.preset}")
    is_deepstack = [i in deepstack for i in range(layers)]
    keys = [  # MmprojModel.set_gguf_parameters, then Qwen3VLVisionModel's
        ("general.file_type", lambda: w.add_file_type(ftype)),
        ("clip.has_vision_encoder", lambda: w.add_clip_has_vision_encoder(True)),
        ("clip.vision.projection_dim", lambda: w.add_vision_projection_dim(args.projection_dim)),
        # the converter's image_size: sqrt(num_position_embeddings) * patch_size
        ("clip.vision.image_size", lambda: w.add_vision_image_size(side * PATCH)),
        ("clip.vision.patch_size", lambda: w.add_vision_patch_size(PATCH)),
        ("clip.vision.embedding_length", lambda: w.add_vision_embedding_length(h)),
        ("clip.vision.feed_forward_length", lambda: w.add_vision_feed_forward_length(f)),
        ("clip.vision.block_count", lambda: w.add_vision_block_count(layers)),
        ("clip.vision.attention.head_count", lambda: w.add_vision_head_count(heads)),
        ("clip.vision.image_mean", lambda: w.add_vision_image_mean([0.5, 0.5, 0.5])),
        ("clip.vision.image_std", lambda: w.add_vision_image_std([0.5, 0.5, 0.5])),
        ("clip.projector_type", lambda: w.add_clip_projector_type(gguf.VisionProjectorType.QWEN3VL)),
        ("clip.use_gelu", lambda: w.add_vision_use_gelu(True)),
        ("clip.vision.spatial_merge_size", lambda: w.add_vision_spatial_merge_size(2)),
        ("clip.vision.attention.layer_norm_epsilon", lambda: w.add_vision_attention_layernorm_eps(1e-6)),
    ]
    if not args.no_deepstack_key:
        keys.append(("clip.vision.is_deepstack_layers", lambda: w.add_vision_is_deepstack_layers(is_deepstack)))
    for key, add in keys:
        if key != args.drop_key:
            add()
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, max(layers, 3))
    for hf_name, hf_array in hf_weights(h, f, layers, deepstack, side, args.projection_dim, args.seed).items():
        for new, a in converted(hf_name, hf_array, deepstack, tmap):
            if new == args.drop_tensor:
                continue
            if ".patch_embd.weight" in new:  # MmprojModel.tensor_force_quant
                t = QT.F16 if ftype == gguf.LlamaFileType.MOSTLY_F16 else QT.F32
            elif a.ndim <= 1 or new[-7:] != ".weight" or ".position_embd." in new:
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
