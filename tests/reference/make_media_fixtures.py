#!/usr/bin/env python3
"""Writes the media layer's test images and Pillow's golden outputs under tests/data/media/.

    /work/main/.venv/bin/python tests/reference/make_media_fixtures.py [OUT_DIR]

Deterministic (seeded NumPy noise; Pillow's encoders are deterministic for a given version). The
images are photo-like (gradients, waves, blobs, hard-edged saturated patches, noise) in several
sizes and aspect ratios, in every form the decoder must handle: baseline/progressive/4:4:4/4:2:2/
gray/CMYK JPEG; RGB/RGBA/L/LA/P PNG plus hand-written 16-bit, 1/2/4-bit, short-palette and Adam7
PNGs; lossless/lossy/alpha/animated WebP; animated and offset-frame GIF.

Goldens (golden.json lists them with a SHA-256 of the bytes; small ones also as raw files):
- decode: Image.open(f).convert("RGB") bytes ([height, width, 3] uint8);
- resize: Image.resize((w, h), resample) of a PNG fixture's pixels (NEAREST, BILINEAR, BICUBIC),
  checked equal to transformers.image_transforms.resize (what HF's image processors call);
- random_resize: xorshift32 noise pictures at random sizes, resized by Pillow (hashes only);
- normalize: transformers.image_transforms.rescale (1/255) then normalize(mean, std), as
  float32 CHW ([3, height, width]), the way BaseImageProcessor does.
"""
from __future__ import annotations

import hashlib
import io
import json
import pathlib
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

RAW_MAX_PIXELS = 4096  # goldens at most this big are stored raw as well as hashed


def photo(width: int, height: int, seed: int) -> np.ndarray:
    """A deterministic photo-like RGB picture. # [height, width, 3] uint8"""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / width, y / height
    img = np.empty((height, width, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(1.5, 6.0), rng.uniform(1.5, 6.0), rng.uniform(0, 6.3)
        img[..., c] = 120 + 70 * np.sin(fx * u * 6.28 + ph) * np.cos(fy * v * 3.14) + 50 * (u - v)
    for _ in range(5):  # soft blobs
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        blob = np.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-90, 90, 3)
    img += rng.normal(0, 4, img.shape)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    # Hard-edged saturated patches: ringing and clamping in the resize filters.
    out[height // 4 : height // 2, width // 5 : width // 3] = 255
    out[height // 2 : 3 * height // 4, width // 2 : 2 * width // 3] = (0, 0, 255)
    out[3 * height // 5 :, : max(1, width // 8)] = 0
    return out


def alpha_plane(width: int, height: int, seed: int) -> np.ndarray:
    """An alpha ramp with fully transparent and opaque areas. # [height, width] uint8"""
    rng = np.random.default_rng(seed)
    a = np.linspace(0, 255, width)[None, :] * np.ones((height, 1))
    a = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    a[: height // 3, : width // 3] = 0
    a[-height // 4 :, -width // 4 :] = 255
    return a


# ---- PNG written by hand: what Pillow cannot write (16-bit colour, low bit depths, Adam7) ----


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _pack_rows(samples: np.ndarray, bit_depth: int) -> list[bytes]:
    """samples: [h, w, channels] unsigned ints -> one packed byte row per image row."""
    h, w, c = samples.shape
    rows = []
    for r in range(h):
        flat = samples[r].reshape(-1).astype(np.uint32)
        if bit_depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            per = 8 // bit_depth
            padded = np.zeros((len(flat) + per - 1) // per * per, np.uint32)
            padded[: len(flat)] = flat
            groups = padded.reshape(-1, per)
            shifts = np.array([8 - bit_depth * (i + 1) for i in range(per)], np.uint32)
            rows.append((groups << shifts).sum(axis=1).astype(np.uint8).tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def write_png(samples: np.ndarray, bit_depth: int, color_type: int, plte=None, trns=None,
              interlace=False) -> bytes:
    """A valid PNG of `samples` ([h, w, channels]) with filter 0 on every row."""
    h, w, _ = samples.shape
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(b"\0" + row for row in _pack_rows(sub, bit_depth))
    else:
        raw = b"".join(b"\0" + row for row in _pack_rows(samples, bit_depth))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if plte is not None:
        out += _chunk(b"PLTE", bytes(np.asarray(plte, np.uint8).reshape(-1)))
    if trns is not None:
        out += _chunk(b"tRNS", trns)
    return out + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


# ---- encoders ----


def pil_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def quantized(rgb: np.ndarray, colors: int) -> Image.Image:
    return Image.fromarray(rgb).quantize(colors, method=Image.Quantize.MEDIANCUT, dither=0)


def gif_with_moved_frame(rgb: np.ndarray, screen: tuple[int, int], offset: tuple[int, int],
                         **kw) -> bytes:
    """A one-frame GIF with its logical screen and frame position rewritten. Pillow fills the
    canvas with the frame's transparent index (else index 0) and grows it to a frame that
    overhangs the screen."""
    h, w, _ = rgb.shape
    data = bytearray(pil_bytes(quantized(rgb, 64), "GIF", **kw))
    desc = data.index(b"\x2c" + struct.pack("<HHHH", 0, 0, w, h))
    data[6:10] = struct.pack("<HH", *screen)
    data[desc + 1 : desc + 5] = struct.pack("<HH", *offset)
    return bytes(data)


def animated_gif(frames: list[np.ndarray]) -> bytes:
    ims = [quantized(f, 32) for f in frames]
    return pil_bytes(ims[0], "GIF", save_all=True, append_images=ims[1:], duration=80, loop=0,
                     transparency=0, disposal=2)


def cmyk_jpeg(rgb: np.ndarray) -> bytes:
    rng = np.random.default_rng(7)
    h, w, _ = rgb.shape
    k = rng.integers(0, 90, (h, w, 1))
    cmyk = np.concatenate([255 - rgb.astype(int) - k // 2, k], axis=2).clip(0, 255)
    return pil_bytes(Image.fromarray(cmyk.astype(np.uint8), "CMYK"), "JPEG", quality=90)


def fixtures() -> dict[str, bytes]:
    big = photo(640, 427, 1)
    small = photo(37, 23, 2)
    odd = photo(33, 17, 3)
    tall = photo(24, 61, 4)
    mid = photo(64, 48, 5)
    gray = np.asarray(Image.fromarray(mid).convert("L"))
    rgba = np.dstack([photo(50, 30, 6), alpha_plane(50, 30, 6)])
    rng = np.random.default_rng(9)
    f = {}
    # JPEG
    f["photo_640x427.jpg"] = pil_bytes(Image.fromarray(big), "JPEG", quality=90)
    f["photo_640x427_progressive.jpg"] = pil_bytes(Image.fromarray(big), "JPEG", quality=85,
                                                   progressive=True)
    f["photo_37x23_444.jpg"] = pil_bytes(Image.fromarray(small), "JPEG", quality=95, subsampling=0)
    f["photo_33x17_422.jpg"] = pil_bytes(Image.fromarray(odd), "JPEG", quality=90, subsampling=1)
    f["photo_24x61_420.jpg"] = pil_bytes(Image.fromarray(tall), "JPEG", quality=80, subsampling=2)
    f["gray_64x48.jpg"] = pil_bytes(Image.fromarray(gray), "JPEG", quality=90)
    f["cmyk_40x30.jpg"] = cmyk_jpeg(photo(40, 30, 8))
    # PNG written by Pillow
    f["photo_640x427.png"] = pil_bytes(Image.fromarray(big), "PNG", compress_level=9)
    f["photo_37x23.png"] = pil_bytes(Image.fromarray(small), "PNG")
    f["photo_33x17.png"] = pil_bytes(Image.fromarray(odd), "PNG")
    f["rgba_50x30.png"] = pil_bytes(Image.fromarray(rgba, "RGBA"), "PNG")
    f["gray_64x48.png"] = pil_bytes(Image.fromarray(gray), "PNG")
    f["gray_alpha_50x30.png"] = pil_bytes(
        Image.fromarray(np.dstack([rgba[..., 0], rgba[..., 3]]), "LA"), "PNG")
    pal = quantized(mid, 40)
    f["palette_64x48.png"] = pil_bytes(pal, "PNG", transparency=3)
    # PNG written by hand
    rgb16 = rng.integers(0, 65536, (20, 30, 3))
    f["rgb16_30x20.png"] = write_png(rgb16, 16, 2)
    f["rgba16_30x20.png"] = write_png(np.dstack([rgb16, rng.integers(0, 65536, (20, 30))]), 16, 6)
    gray16 = np.concatenate([rng.integers(0, 300, (10, 30)), rng.integers(0, 65536, (10, 30))])
    f["gray16_30x20.png"] = write_png(gray16[..., None], 16, 0)
    for bits in (1, 2, 4):
        g = rng.integers(0, 1 << bits, (13, 19, 1))
        f[f"gray{bits}bit_19x13.png"] = write_png(g, bits, 0)
    # 3 palette entries, index 3 used: Pillow and libpng both give black for it.
    idx = rng.integers(0, 4, (9, 21, 1))
    f["palette_short_21x9.png"] = write_png(idx, 2, 3, plte=[[200, 10, 10], [10, 200, 10],
                                                            [10, 10, 200]])
    f["gray_trns_19x13.png"] = write_png(rng.integers(0, 256, (13, 19, 1)), 8, 0,
                                         trns=struct.pack(">H", 17))
    f["adam7_37x23.png"] = write_png(small, 8, 2, interlace=True)
    # WebP
    f["photo_37x23_lossless.webp"] = pil_bytes(Image.fromarray(small), "WEBP", lossless=True)
    f["rgba_50x30_lossless.webp"] = pil_bytes(Image.fromarray(rgba, "RGBA"), "WEBP",
                                              lossless=True, exact=True)
    f["photo_640x427_lossy.webp"] = pil_bytes(Image.fromarray(big), "WEBP", quality=80)
    f["rgba_50x30_lossy.webp"] = pil_bytes(Image.fromarray(rgba, "RGBA"), "WEBP", quality=75)
    frames = [photo(40, 30, 10 + i) for i in range(3)]
    ims = [Image.fromarray(fr) for fr in frames]
    f["animated_40x30.webp"] = pil_bytes(ims[0], "WEBP", save_all=True, append_images=ims[1:],
                                         duration=80, quality=70)
    # GIF
    f["animated_48x32.gif"] = animated_gif([photo(48, 32, 20 + i) for i in range(3)])
    f["offset_frame_35x21.gif"] = gif_with_moved_frame(photo(28, 16, 30), (35, 21), (3, 2))
    f["overhang_frame_31x18.gif"] = gif_with_moved_frame(photo(28, 16, 31), (23, 10), (3, 2),
                                                         transparency=5)
    return f


# ---- goldens ----


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def rgb_of(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def golden_entry(out: pathlib.Path, name: str, arr: np.ndarray, **fields) -> dict:
    data = np.ascontiguousarray(arr).tobytes()
    e = dict(fields, sha256=sha256(data))
    pixels = arr.shape[-1] * arr.shape[-2] if arr.dtype == np.float32 else arr.shape[0] * arr.shape[1]
    if pixels <= RAW_MAX_PIXELS:
        (out / "golden").mkdir(exist_ok=True)
        (out / "golden" / name).write_bytes(data)
        e["raw"] = "golden/" + name
    return e


RESAMPLES = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
             "bicubic": Image.Resampling.BICUBIC}
# (source, width, height): Gemma 3 (896x896), Qwen2-VL's smart_resize of 640x427 (644x420),
# a CLIP-sized downscale, odd up/down scales, and both sides of Pillow 13's choice of the
# vertical pass first (height shrinks by more than twice the width's loss: 560x266, not 560x267).
RESIZES = [("photo_640x427.png", 896, 896), ("photo_640x427.png", 644, 420),
           ("photo_640x427.png", 224, 224), ("photo_640x427.png", 61, 97),
           ("photo_640x427.png", 560, 266), ("photo_640x427.png", 560, 267),
           ("photo_640x427.png", 300, 700),
           ("photo_37x23.png", 224, 224), ("photo_37x23.png", 17, 11),
           ("photo_33x17.png", 56, 28), ("photo_33x17.png", 33, 9), ("photo_33x17.png", 1, 1)]
# (name, source, resize (w, h, resample) or None, mean, std): Gemma 3 and CLIP (Qwen2-VL).
NORMALIZES = [
    ("photo_37x23.png", None, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
    ("photo_33x17.png", None, [0.48145466, 0.4578275, 0.40821073],
     [0.26862954, 0.26130258, 0.27577711]),
    ("photo_640x427.png", (56, 28, "bicubic"), [0.48145466, 0.4578275, 0.40821073],
     [0.26862954, 0.26130258, 0.27577711]),
]


NUM_RANDOM_RESIZES = 150


def xorshift_bytes(seed: int, n: int) -> bytes:
    """Marsaglia's xorshift32, top byte of each step: tests/unit/media makes the same bytes."""
    s, out = seed, bytearray(n)
    for i in range(n):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out[i] = s >> 24
    return bytes(out)


def random_resizes() -> list[dict]:
    """Random noise pictures (1..48 a side) resized to random sizes (1..64 a side): bytes
    regenerated from the seed by the test, Pillow's output kept as a hash."""
    cases = []
    for i in range(NUM_RANDOM_RESIZES):
        seed = 1000 + i
        iw, ih, ow, oh = (1 + b % m for b, m in zip(xorshift_bytes(seed ^ 0x5EED, 4),
                                                    (48, 48, 64, 64)))
        img = Image.frombytes("RGB", (iw, ih), xorshift_bytes(seed, iw * ih * 3))
        cases.append({"seed": seed, "width": iw, "height": ih, "to_width": ow, "to_height": oh,
                      "sha256": {m: sha256(img.resize((ow, oh), r).tobytes())
                                 for m, r in RESAMPLES.items()}})
    return cases


def main() -> int:
    from transformers.image_transforms import normalize, rescale, resize
    from transformers.image_utils import ChannelDimension, PILImageResampling

    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).resolve().parents[1] / "data" / "media")
    out.mkdir(parents=True, exist_ok=True)
    files = fixtures()
    for name, data in files.items():
        (out / name).write_bytes(data)
    golden = {"pillow": PIL.__version__, "decode": [], "resize": [], "normalize": []}
    for name, data in sorted(files.items()):
        arr = rgb_of(data)
        golden["decode"].append(golden_entry(out, name + ".rgb", arr, file=name,
                                             width=arr.shape[1], height=arr.shape[0]))
    for src, w, h in RESIZES:
        img = Image.open(out / src).convert("RGB")
        for mode, resample in RESAMPLES.items():
            arr = np.asarray(img.resize((w, h), resample))
            hf = resize(np.asarray(img), (h, w), resample=PILImageResampling(int(resample)),
                        input_data_format=ChannelDimension.LAST)
            assert np.array_equal(arr, hf), (src, w, h, mode)
            golden["resize"].append(golden_entry(
                out, f"{src}.{w}x{h}.{mode}.rgb", arr, file=src, width=w, height=h,
                resample=mode))
    for src, size, mean, std in NORMALIZES:
        img = Image.open(out / src).convert("RGB")
        if size:
            img = img.resize(size[:2], RESAMPLES[size[2]])
        x = rescale(np.asarray(img), 1 / 255, input_data_format=ChannelDimension.LAST)
        x = normalize(x, mean, std, data_format=ChannelDimension.FIRST,
                      input_data_format=ChannelDimension.LAST)
        assert x.dtype == np.float32 and x.shape == (3, img.height, img.width)
        tag = f"{src}.{'x'.join(map(str, size[:2])) + '.' + size[2] if size else 'orig'}"
        golden["normalize"].append(golden_entry(
            out, f"{tag}.{mean[0]}.f32", x, file=src, width=img.width, height=img.height,
            resize=size[2] if size else None, rescale=1 / 255, mean=mean, std=std))
    golden["random_resize"] = random_resizes()
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(files)} fixtures, {total} bytes under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
