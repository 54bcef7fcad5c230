#!/usr/bin/env python3
"""Reference: a Gemma 3 vision tower in Hugging Face transformers (SiglipVisionModel +
Gemma3MultiModalProjector, torch) with the weights of a llama.cpp mmproj GGUF.

    python hf_gemma3_vision.py --mmproj MMPROJ.gguf --pixels P.f32 -o OUT.f32 \
        [--device cpu|cuda] [--dtype float32|float64]

P.f32: float32 [images, 3, S, S], already normalized (what `sluice vision-embed` takes); OUT.f32:
float32 [images * tokens, text_hidden]. The GGUF tensors go back to transformers' names the way
llama.cpp's converter (conversion/gemma.py) brought them: fc1/fc2 = ffn_up/ffn_down (older files'
swapped names recognized by shape), soft_emb_norm stored as 1 + w. Needs torch (not in the
project's venv; the GPU machine's image has it) and the `gguf` package for dequantizing.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_lite import GgufLite  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmproj", required=True)
    ap.add_argument("--pixels", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = ap.parse_args()

    import torch
    from transformers import Gemma3Config, Gemma3TextConfig, SiglipVisionConfig, SiglipVisionModel
    from transformers.models.gemma3.modeling_gemma3 import Gemma3MultiModalProjector

    f = GgufLite(args.mmproj)
    md = f.metadata
    if md.get("clip.projector_type") != "gemma3":
        print(f"hf_gemma3_vision: projector {md.get('clip.projector_type')!r}, not gemma3", file=sys.stderr)
        return 2
    H, F = int(md["clip.vision.embedding_length"]), int(md["clip.vision.feed_forward_length"])
    L, S = int(md["clip.vision.block_count"]), int(md["clip.vision.image_size"])
    P, heads = int(md["clip.vision.patch_size"]), int(md["clip.vision.attention.head_count"])
    eps, proj = float(md["clip.vision.attention.layer_norm_epsilon"]), int(md["clip.vision.projection_dim"])
    kernel = int(md.get("clip.vision.projector.scale_factor", 4))
    tokens = (S // P // kernel) ** 2
    vc = SiglipVisionConfig(hidden_size=H, intermediate_size=F, num_hidden_layers=L, num_attention_heads=heads,
                            image_size=S, patch_size=P, hidden_act="gelu_pytorch_tanh", layer_norm_eps=eps,
                            vision_use_head=False)
    vc._attn_implementation = "eager"
    tc = Gemma3TextConfig(hidden_size=proj, vocab_size=16, num_hidden_layers=1)
    cfg = Gemma3Config(text_config=tc, vision_config=vc, mm_tokens_per_image=tokens)

    swapped = f.tensors["v.blk.0.ffn_down.weight"].shape == [H, F] and H != F
    up, down = ("ffn_down", "ffn_up") if swapped else ("ffn_up", "ffn_down")
    sd = {"vision_model.embeddings.patch_embedding.weight": "v.patch_embd.weight",
          "vision_model.embeddings.patch_embedding.bias": "v.patch_embd.bias",
          "vision_model.embeddings.position_embedding.weight": "v.position_embd.weight",
          "vision_model.post_layernorm.weight": "v.post_ln.weight",
          "vision_model.post_layernorm.bias": "v.post_ln.bias"}
    for i in range(L):
        hf, g = f"vision_model.encoder.layers.{i}.", f"v.blk.{i}."
        for a, b in [("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                     ("self_attn.out_proj", "attn_out"), ("layer_norm1", "ln1"), ("layer_norm2", "ln2"),
                     ("mlp.fc1", up), ("mlp.fc2", down)]:
            for p in ("weight", "bias"):
                sd[f"{hf}{a}.{p}"] = f"{g}{b}.{p}"
    dtype = getattr(torch, args.dtype)
    vision = SiglipVisionModel(vc)
    state = {k: torch.from_numpy(f.array(v).copy()) for k, v in sd.items()}
    missing, unexpected = vision.load_state_dict(state, strict=False)
    missing = [m for m in missing if "position_ids" not in m]
    if missing or unexpected:
        print(f"hf_gemma3_vision: missing {missing} unexpected {unexpected}", file=sys.stderr)
        return 1
    projector = Gemma3MultiModalProjector(cfg)
    with torch.no_grad():
        projector.mm_input_projection_weight.copy_(torch.from_numpy(f.array("mm.input_projection.weight")))
        projector.mm_soft_emb_norm.weight.copy_(torch.from_numpy(f.array("mm.soft_emb_norm.weight") - 1.0))
    vision = vision.to(args.device, dtype).eval()
    projector = projector.to(args.device, dtype).eval()

    pixels = np.fromfile(args.pixels, dtype="<f4").reshape(-1, 3, S, S)
    with torch.no_grad():
        x = torch.from_numpy(pixels).to(args.device, dtype)
        out = projector(vision(pixel_values=x).last_hidden_state)
    out.reshape(-1, proj).to("cpu", torch.float32).numpy().astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
