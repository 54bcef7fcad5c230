#!/usr/bin/env python3
"""Write a random Gemma 3 vision tower (mmproj GGUF) with llama.cpp's `gguf.GGUFWriter`, as its
converter (conversion/gemma.py Gemma3VisionModel over conversion/base.py MmprojModel) would.

    python gguf_py_random_gemma3_mmproj.py --projection-dim N -o OUT.gguf [--type f32|f16|q8_0] \
        [--preset small|gemma3-4b] [--layers L] [--seed S] [--legacy-ffn-names] \
        [--projector-type gemma3] [--drop-key KEY]

The weights are numpy draws in transformers' names and layouts (vision_tower.vision_model.* and
multi_modal_projector.*), converted the converter's way: names by gguf's tensor map, the projector's
RMSNorm weight stored as 1 + w, `.embeddings.` tensors (patch conv, positions) F32, the input
projection F16, 1-D tensors F32, other matrices --type with the converter's F16 fallback for rows
Q8_0 cannot split. Presets: small (112 px, patches of 14, 8x8 patches pooled 2x2 into 16 tokens:
the scale factor key the converter writes when it is not 4; width 64, 2 heads, MLP 176 (not a
multiple of 32: Q8_0 files mix types), 3 layers) and gemma3-4b (SigLIP-so400m as in Gemma 3 4B).
--legacy-ffn-names writes fc1 as ffn_down and fc2 as ffn_up, as older converters did (llama.cpp
swaps them back by shape). --projector-type and --drop-key make malformed files for tests.
"""
import argparse
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

PRESETS = {  # image, patch, hidden, ffn, layers, heads, pool kernel
    "small": (112, 14, 64, 176, 3, 2, 2),
    "gemma3-4b": (896, 14, 1152, 4304, 27, 16, 4),
}
TYPES = {"f32": (QT.F32, gguf.LlamaFileType.ALL_F32), "f16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
         "q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0)}


def hf_weights(preset: str, layers: int, proj: int, seed: int) -> dict:
    """transformers' state dict of Gemma3ForConditionalGeneration's vision tower and projector."""
    image, patch, h, f, _, _, _ = PRESETS[preset]
    rng = np.random.default_rng(seed)
    n = lambda *shape, std=1.0, mean=0.0: (mean + std * rng.standard_normal(shape)).astype(np.float32)
    p = "vision_tower.vision_model."
    w = {p + "embeddings.patch_embedding.weight": n(h, 3, patch, patch, std=(3 * patch * patch) ** -0.5),
         p + "embeddings.patch_embedding.bias": n(h, std=0.1),
         p + "embeddings.position_embedding.weight": n((image // patch) ** 2, h, std=0.5)}
    for i in range(layers):
        lp = f"{p}encoder.layers.{i}."
        for norm in ("layer_norm1", "layer_norm2"):
            w[lp + norm + ".weight"], w[lp + norm + ".bias"] = n(h, std=0.1, mean=1.0), n(h, std=0.1)
        for m, gain in (("q_proj", 1.5), ("k_proj", 1.5), ("v_proj", 1.0), ("out_proj", 1.0)):
            w[f"{lp}self_attn.{m}.weight"], w[f"{lp}self_attn.{m}.bias"] = n(h, h, std=gain / h**0.5), n(h, std=0.1)
        w[lp + "mlp.fc1.weight"], w[lp + "mlp.fc1.bias"] = n(f, h, std=h**-0.5), n(f, std=0.1)
        w[lp + "mlp.fc2.weight"], w[lp + "mlp.fc2.bias"] = n(h, f, std=f**-0.5), n(h, std=0.1)
    w[p + "post_layernorm.weight"], w[p + "post_layernorm.bias"] = n(h, std=0.1, mean=1.0), n(h, std=0.1)
    w["multi_modal_projector.mm_soft_emb_norm.weight"] = n(h, std=0.1)  # Gemma3RMSNorm: scale 1 + w
    w["multi_modal_projector.mm_input_projection_weight"] = n(h, proj, std=h**-0.5)
    return w


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projection-dim", type=int, required=True, help="the text model's hidden size")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--type", default="f16", choices=list(TYPES))
    ap.add_argument("--preset", default="small", choices=list(PRESETS))
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--legacy-ffn-names", action="store_true")
    ap.add_argument("--projector-type", default=gguf.VisionProjectorType.GEMMA3)
    ap.add_argument("--drop-key", default="")
    args = ap.parse_args()
    image, patch, h, f, layers, heads, kernel = PRESETS[args.preset]
    layers = args.layers or layers
    qtype, ftype = TYPES[args.type]

    w = gguf.GGUFWriter(args.output, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.MMPROJ])
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_name(f"gguf-py-random-gemma3-mmproj-{args.preset}")
    keys = [  # MmprojModel.set_gguf_parameters, then Gemma3VisionModel's
        ("general.file_type", lambda: w.add_file_type(ftype)),
        ("clip.has_vision_encoder", lambda: w.add_clip_has_vision_encoder(True)),
        ("clip.vision.projection_dim", lambda: w.add_vision_projection_dim(args.projection_dim)),
        ("clip.vision.image_size", lambda: w.add_vision_image_size(image)),
        ("clip.vision.patch_size", lambda: w.add_vision_patch_size(patch)),
        ("clip.vision.embedding_length", lambda: w.add_vision_embedding_length(h)),
        ("clip.vision.feed_forward_length", lambda: w.add_vision_feed_forward_length(f)),
        ("clip.vision.block_count", lambda: w.add_vision_block_count(layers)),
        ("clip.vision.attention.head_count", lambda: w.add_vision_head_count(heads)),
        ("clip.vision.image_mean", lambda: w.add_vision_image_mean([0.5, 0.5, 0.5])),
        ("clip.vision.image_std", lambda: w.add_vision_image_std([0.5, 0.5, 0.5])),
        ("clip.projector_type", lambda: w.add_clip_projector_type(args.projector_type)),
        ("clip.vision.attention.layer_norm_epsilon", lambda: w.add_vision_attention_layernorm_eps(1e-6)),
        ("clip.use_gelu", lambda: w.add_vision_use_gelu(True)),
    ]
    if kernel != 4:
        keys.append(("clip.vision.projector.scale_factor", lambda: w.add_vision_projector_scale_factor(kernel)))
    for key, add in keys:
        if key != args.drop_key:
            add()
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, layers)
    for name, a in hf_weights(args.preset, layers, args.projection_dim, args.seed).items():
        name = name.replace("_weight", ".weight")  # Gemma3VisionModel.filter_tensors
        if "soft_emb_norm.weight" in name:
            a = a + 1  # Gemma3VisionModel.modify_tensors
        new = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        if args.legacy_ffn_names and ".ffn_" in new:
            new = new.replace(".ffn_up.", ".ffn_tmp.").replace(".ffn_down.", ".ffn_up.").replace(".ffn_tmp.", ".ffn_down.")
        if "input_projection" in name:
            t = QT.F16
        elif ".embeddings." in name or a.ndim <= 1 or not new.endswith(".weight"):
            t = QT.F32
        else:
            t = qtype
        try:
            data = gguf.quants.quantize(a, t)
        except gguf.QuantError:
            t, data = QT.F16, gguf.quants.quantize(a, QT.F16)
        w.add_tensor(new, data, raw_dtype=t)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
