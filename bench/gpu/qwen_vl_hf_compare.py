#!/usr/bin/env python3
"""Qwen2.5-VL / Qwen3-VL against PyTorch/transformers on random-weight HF checkpoints (issue 37).

    qwen_vl_hf_compare.py make DIR --tokenizer tokenizer.json   # the HF directory, random weights
    qwen_vl_hf_compare.py logits DIR --image A.png --tokens "..." -o OUT.f32
    qwen_vl_hf_compare.py logits DIR --video F0.png F1.png ... --tokens "... <video> ..." -o OUT.f32

`make` writes a small Qwen2_5_VLForConditionalGeneration (float32, seeded) with the given
tokenizer.json (Qwen's vocabulary: it has <|vision_start|>, <|image_pad|>, <|vision_end|>) and
the image processor's config, for llama.cpp's converter (convert_hf_to_gguf.py, text and
--mmproj). `logits` loads any Qwen VLM directory (this one, or one sluice's make-model wrote:
missing or unexpected tensors are an error), runs transformers on the prompt `--tokens` (ids,
`<image>` = that image's <|image_pad|> tokens) and writes the last position's logits. Images
must have sides that are multiples of patch * merge (28; Qwen3-VL 32): both processors then
keep their pixels (only rescale and normalize), so the comparison is of the models alone.
`--video` frames (Qwen2.5-VL; one video, `--video-fps` apart, 128 to 768 tokens of 28 px a
frame so neither side resizes) are patchified as Qwen2VLVideoProcessor does (torchvision-free).
"""
import argparse
import json
import shutil
import sys

import numpy as np


def make(args) -> None:
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    tok = json.load(open(args.tokenizer))
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    vocab = max(ids.values()) + 1
    cfg = Qwen2_5_VLConfig(
        vocab_size=vocab, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
        rope_scaling={"type": "mrope", "mrope_section": [8, 12, 12]},
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_config=dict(depth=4, hidden_size=128, intermediate_size=256, num_heads=4,
                           out_hidden_size=256, patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2, window_size=112, fullatt_block_indexes=[1, 3],
                           tokens_per_second=2,  # every release's (mmproj files have no key)
                           in_chans=3, hidden_act="silu"),
        torch_dtype="float32")
    torch.manual_seed(7)
    model = Qwen2_5_VLForConditionalGeneration(cfg).float()
    with torch.no_grad():  # random init leaves norms at 1 and biases at 0: perturb everything
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    model.save_pretrained(args.dir, safe_serialization=True)
    shutil.copy(args.tokenizer, f"{args.dir}/tokenizer.json")
    json.dump({"tokenizer_class": "Qwen2TokenizerFast", "model_max_length": 4096},
              open(f"{args.dir}/tokenizer_config.json", "w"))
    json.dump({"image_processor_type": "Qwen2VLImageProcessor", "do_resize": True,
               "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
               "image_mean": [0.48145466, 0.4578275, 0.40821073],
               "image_std": [0.26862954, 0.26130258, 0.27577711], "min_pixels": 3136,
               "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2,
               "merge_size": 2}, open(f"{args.dir}/preprocessor_config.json", "w"))
    print(f"wrote {args.dir} (vocab {vocab})")


def video_patches(files, processor, fps):
    """pixel_values_videos [t * h * w, 3 * 2 * 14 * 14], video_grid_thw [1, 3] and
    second_per_grid_ts [1], as Qwen2VLVideoProcessor + Qwen2_5_VLProcessor make them."""
    import torch
    from PIL import Image

    frames = np.stack([np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) for f in files])
    mean, std = np.array(processor.image_mean), np.array(processor.image_std)
    video = ((frames / 255.0 - mean) / std).astype(np.float32).transpose(0, 3, 1, 2)  # [T, C, H, W]
    tp, p, m = 2, 14, 2
    if len(video) % tp:  # the last frame repeated, as the processor pads
        video = np.concatenate([video, video[-1:]])
    t, c, hh, ww = video.shape
    gt, gh, gw = t // tp, hh // p, ww // p
    x = video.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    x = x.reshape(gt * gh * gw, c * tp * p * p)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.tensor([[gt, gh, gw]]), \
        torch.tensor([tp / fps])


def logits(args) -> None:
    import torch
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForImageTextToText

    model, info = AutoModelForImageTextToText.from_pretrained(
        args.dir, torch_dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"{args.dir}: transformers loaded it with {bad}")
    model.eval()
    proc = AutoImageProcessor.from_pretrained(args.dir)
    pad, video_pad = model.config.image_token_id, model.config.video_token_id
    video = video_patches(args.video, proc, args.video_fps) if args.video else None
    images = [Image.open(f).convert("RGB") for f in args.image]
    batch = proc(images=images, return_tensors="pt") if images else {"pixel_values": None}
    grids = batch.get("image_grid_thw")
    ids, next_image = [], 0
    for w in args.tokens.split():
        if w == "<video>":
            assert video is not None, "a <video> word needs --video"
            ids += [video_pad] * (video[1].prod().item() // 4)
            continue
        if w != "<image>":
            ids.append(int(w))
            continue
        t, h, w_ = grids[next_image].tolist()
        ids += [pad] * (t * h * w_ // 4)
        next_image += 1
    assert next_image == len(images), "one <image> word per --image"
    # transformers 5 builds the 3D (M-RoPE) positions only from mm_token_type_ids (1: image
    # token, 2: video), as its processor returns them; without them it falls back to 1D positions.
    input_ids = torch.tensor([ids])
    types = (input_ids == pad).int() + 2 * (input_ids == video_pad).int()
    extra = {}
    if video is not None:
        extra = dict(pixel_values_videos=video[0], video_grid_thw=video[1],
                     second_per_grid_ts=video[2])
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                    mm_token_type_ids=types, pixel_values=batch["pixel_values"],
                    image_grid_thw=grids, **extra)
    out.logits[0, -1].float().numpy().astype(np.float32).tofile(args.output)
    print(f"transformers: {len(ids)} tokens, grids {grids.tolist() if grids is not None else []}")
    if args.embeddings:  # the vision tower's output per image [tokens, hidden], in order
        with torch.no_grad():
            feats = model.get_image_features(pixel_values=batch["pixel_values"], image_grid_thw=grids)
        feats = getattr(feats, "pooler_output", feats)
        feats = torch.cat(list(feats)) if isinstance(feats, (list, tuple)) else feats
        feats.float().numpy().astype(np.float32).tofile(args.embeddings)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("--tokenizer", required=True)
    g = sub.add_parser("logits")
    g.add_argument("dir")
    g.add_argument("--image", nargs="*", default=[])
    g.add_argument("--video", nargs="*", default=[], help="one video's frames, in order")
    g.add_argument("--video-fps", type=float, default=2.0)
    g.add_argument("--embeddings", help="also write the images' vision-tower output here")
    g.add_argument("--tokens", required=True)
    g.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    make(args) if args.cmd == "make" else logits(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
