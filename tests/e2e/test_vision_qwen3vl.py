"""The Qwen3-VL vision tower (`sluice vision-embed`: the ViT, the main merger and the DeepStack
mergers) against llama.cpp's multimodal library (libmtmd through llama-cpp-python) and a numpy
float64 reference written from transformers (tests/reference/numpy_qwen3vl_vision.py) on the same
mmproj files, written by `sluice make-model --vision qwen3vl-*` and by the `gguf` package as
llama.cpp's converter writes them (tests/reference/gguf_py_random_qwen3vl_mmproj.py).

Each token is [main merger | DeepStack merger per listed layer] * text_hidden floats (llama.cpp's
concatenation). Images on the 32-pixel grid go to mtmd unresized (image_min_tokens 1) and to
sluice as normalized pixels, so only the towers are compared; photos off the grid go through
both preprocessors (sluice's smart resize against mtmd's) and must give the same token count.
Bounds: within 1e-2 of mtmd for float files (ggml rounds activations to f16 in its products and
uses a tanh GELU in the mergers where transformers has erf: ~1e-3 from exact), 2e-2 for Q8_0
(ggml quantizes the activations too), and 1e-5 (float) / 1e-4 (Q8_0) of the float64 reference.
The learned position table is resampled to every grid: the tiny tower's 6 x 6 table both grows
and shrinks here. The text model mtmd needs is the tiny qwen2 GGUF (its vocabulary only).
"""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from e2e_util import REFERENCE_DIR, REPO, THREADS, check_ok, read_f32, rel_l2
from test_malformed_models import check_clean_error

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite, rewrite  # noqa: E402

TEXT_HIDDEN = 256  # the tiny qwen2/qwen3 text models' width: every mmproj here projects to it
BOUNDS = {"f32": 1e-5, "f16": 1e-5, "q8_0": 1e-4}
MTMD_BOUNDS = {"f32": 1e-2, "f16": 1e-2, "q8_0": 2e-2}
PHOTOS = REPO / "tests" / "data" / "media"


@pytest.fixture(scope="module")
def text_model(make_model):
    return make_model("qwen2", "gguf-f16")


@pytest.fixture(scope="module")
def vision_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("qwen3vl_vision")


@pytest.fixture(scope="module")
def sluice_mmproj(sluice, vision_dir):
    """sluice_mmproj(vision, mtype, layers=0) -> an mmproj by `make-model --vision`."""
    cache: dict = {}

    def make(vision: str, mtype: str, layers: int = 0):
        key = (vision, mtype, layers)
        if key not in cache:
            out = vision_dir / f"sluice-{vision}-{mtype}-l{layers}.gguf"
            args = ["make-model", "--arch", "qwen3", "--preset", "tiny", "-o",
                    vision_dir / "text-unused.gguf", "--vision", vision, "--mmproj-type", mtype,
                    "--mmproj", out, "--seed", 3]
            if layers:
                args += ["--vision-layers", layers]
            check_ok(sluice(*args), "make-model --vision")
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture(scope="module")
def gguf_py_mmproj(venv_python, vision_dir):
    """gguf_py_mmproj(*flags, name=...) -> an mmproj by gguf_py_random_qwen3vl_mmproj.py."""

    def make(*flags, name: str):
        out = vision_dir / f"gguf-py-{name}.gguf"
        if not out.exists():
            args = [venv_python, REFERENCE_DIR / "gguf_py_random_qwen3vl_mmproj.py",
                    "--projection-dim", TEXT_HIDDEN, "-o", out, "--seed", 5, *flags]
            check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True,
                                    timeout=600), "gguf_py_random_qwen3vl_mmproj.py")
        return out

    return make


def _deepstack(mmproj) -> int:
    return sum(1 for n in GgufLite(str(mmproj)).tensors if n.startswith("v.deepstack.") and n.endswith(".fc2.weight"))


def _image(mmproj, tmp_path, h, w, seed=0):
    """A PNG of h x w (gradients plus noise) and its pixels [3, h, w] normalized by the mmproj."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 255 / max(h + w - 2, 1)], -1)
    img = np.clip(img[:, :, rng.permutation(3)] + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    png = tmp_path / f"image-{h}x{w}.png"
    Image.fromarray(img).save(png)
    md = GgufLite(str(mmproj)).metadata
    mean, std = (np.asarray(md[k], dtype=np.float32) for k in ("clip.vision.image_mean", "clip.vision.image_std"))
    pixels = tmp_path / f"image-{h}x{w}.f32"
    ((img.astype(np.float32) / 255 - mean) / std).transpose(2, 0, 1).astype("<f4").tofile(pixels)
    return png, pixels


def _embed(sluice, mmproj, out, *inputs):
    r = check_ok(sluice("vision-embed", "--mmproj", mmproj, *inputs, "-o", out, "--threads", THREADS,
                        timeout=600), "sluice vision-embed")
    return read_f32(out), r


def _mtmd(reference, text_model, mmproj, png, out, *flags):
    r = reference("mtmd_image_embeddings.py", "--model", text_model, "--mmproj", mmproj, "--image", png,
                  "-o", out, "--threads", THREADS, *flags)
    return read_f32(out), r.stdout.strip()


def _compare(case, mmproj, ours, mtmd, exact, record, mtype, note=""):
    width = TEXT_HIDDEN * (1 + _deepstack(mmproj))
    assert ours.shape == mtmd.shape == exact.shape, (ours.shape, mtmd.shape, exact.shape)
    tokens = exact.reshape(-1, width)
    assert tokens.std() > 0.3 and np.abs(tokens - tokens[0]).max() > 0.3, "degenerate tokens"
    vs_mtmd, vs_exact, mtmd_exact = rel_l2(ours, mtmd), rel_l2(ours, exact), rel_l2(mtmd, exact)
    # every merger's block on its own, so a block in the wrong place cannot hide in the total
    o, e = ours.reshape(-1, width), tokens
    blocks = [rel_l2(o[:, k:k + TEXT_HIDDEN], e[:, k:k + TEXT_HIDDEN]) for k in range(0, width, TEXT_HIDDEN)]
    record(f"qwen3vl vision {case}: {tokens.shape[0]} tokens x {width}; rel L2 sluice-vs-mtmd {vs_mtmd:.2e}, "
           f"sluice-vs-f64 {vs_exact:.2e} (per merger {', '.join(f'{b:.1e}' for b in blocks)}), "
           f"mtmd-vs-f64 {mtmd_exact:.2e} ({note})")
    assert vs_mtmd <= MTMD_BOUNDS[mtype], f"{case}: sluice vs mtmd {vs_mtmd:.3g}"
    assert max(blocks) <= BOUNDS[mtype], f"{case}: sluice vs float64 {blocks}"


def _check(case, mmproj, text_model, sluice, reference, record, tmp_path, mtype, sizes):
    for h, w in sizes:
        png, pixels = _image(mmproj, tmp_path, h, w)
        ours, _ = _embed(sluice, mmproj, tmp_path / "sluice.f32", "--pixels", pixels, "--size", f"{h}x{w}")
        mtmd, note = _mtmd(reference, text_model, mmproj, png, tmp_path / "mtmd.f32", "--image-min-tokens", 1)
        reference("numpy_qwen3vl_vision.py", "--mmproj", mmproj, "--pixels", pixels, "--size", f"{h}x{w}",
                  "-o", tmp_path / "exact.f32")
        assert ours.size == (h // 32) * (w // 32) * TEXT_HIDDEN * (1 + _deepstack(mmproj))
        _compare(f"{case} {h}x{w}", mmproj, ours, mtmd, read_f32(tmp_path / "exact.f32"), record, mtype, note)


@pytest.mark.parametrize("mtype", ["f16", "q8_0"])
def test_sluice_written_tiny_vs_mtmd(mtype, sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    sizes = [(64, 96), (192, 320)] if mtype == "f16" else [(96, 160)]
    _check(f"make-model qwen3vl-tiny {mtype}", sluice_mmproj("qwen3vl-tiny", mtype), text_model, sluice,
           reference, record, tmp_path, mtype, sizes)


def test_gguf_py_written_vs_mtmd(gguf_py_mmproj, text_model, sluice, reference, record, tmp_path):
    mmproj = gguf_py_mmproj("--type", "f32", name="small-f32")
    _check("gguf-py small f32", mmproj, text_model, sluice, reference, record, tmp_path, "f32",
           [(160, 96)])


def test_qwen3vl_4b_shape_vs_mtmd(sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    """The 2B/4B tower's shape (width 1024, 16 heads of 64, MLP 4096, mergers 4096 wide) with 2
    of its 24 layers (its first DeepStack layer is the 6th: the tiny and gguf-py towers check
    those mergers; 6 layers cost 15 s more here); the 48 x 48 position table shrinks to the
    image's grid."""
    _check("make-model qwen3vl-4b (2 of 24 layers) f16", sluice_mmproj("qwen3vl-4b", "f16", layers=2),
           text_model, sluice, reference, record, tmp_path, "f16", [(128, 160)])


@pytest.mark.parametrize("photo", ["photo_640x427.png", "photo_24x61_420.jpg"])
def test_photos_preprocessed_as_mtmd(photo, sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    """Photos off the grid: sluice's smart resize (llama.cpp's rule on 32-pixel units, Pillow
    BICUBIC) against mtmd's own, with mtmd's default limits (8 to 4096 tokens)."""
    mmproj = sluice_mmproj("qwen3vl-tiny", "f16")
    pixels = tmp_path / "pre.f32"
    ours, r = _embed(sluice, mmproj, tmp_path / "sluice.f32", "--image", PHOTOS / photo, "--pixels-out", pixels)
    got = re.search(r"\((\d+)x(\d+)\)", r.stderr)
    assert got, r.stderr
    rh, rw = int(got[1]), int(got[2])
    assert rh % 32 == 0 and rw % 32 == 0, (rh, rw)
    mtmd, note = _mtmd(reference, text_model, mmproj, PHOTOS / photo, tmp_path / "mtmd.f32")
    m = re.search(r"tokens (\d+)", note)
    assert int(m[1]) == (rh // 32) * (rw // 32), f"token counts differ: mtmd {m[1]}, sluice {rh // 32 * rw // 32} ({rh}x{rw})"
    reference("numpy_qwen3vl_vision.py", "--mmproj", mmproj, "--pixels", pixels, "--size", f"{rh}x{rw}",
              "-o", tmp_path / "exact.f32")
    _compare(f"{photo} -> {rh}x{rw}", mmproj, ours, mtmd, read_f32(tmp_path / "exact.f32"), record, "f16", note)


def test_deepstack_key_or_tensors_give_the_same_layers(gguf_py_mmproj, sluice, tmp_path):
    """Without clip.vision.is_deepstack_layers the DeepStack layers are those with tensors (as
    llama.cpp finds them): the same embeddings bit for bit."""
    with_key = gguf_py_mmproj("--type", "f32", name="small-f32")
    without = gguf_py_mmproj("--type", "f32", "--no-deepstack-key", name="small-f32-nokey")
    _, pixels = _image(with_key, tmp_path, 64, 96)
    a, _ = _embed(sluice, with_key, tmp_path / "a.f32", "--pixels", pixels, "--size", "64x96")
    b, _ = _embed(sluice, without, tmp_path / "b.f32", "--pixels", pixels, "--size", "64x96")
    assert a.size == 6 * 3 * TEXT_HIDDEN and np.array_equal(a, b)


def test_images_of_different_sizes_batched_equal_each_alone(sluice_mmproj, sluice, tmp_path):
    """Two images in one call (each with its own grid of resampled positions) give each image's
    rows bit for bit (the CPU backend is batch-invariant)."""
    mmproj = sluice_mmproj("qwen3vl-tiny", "f16")
    a, b = PHOTOS / "photo_640x427.png", PHOTOS / "photo_24x61_420.jpg"
    one, _ = _embed(sluice, mmproj, tmp_path / "1.f32", "--image", a)
    two, _ = _embed(sluice, mmproj, tmp_path / "2.f32", "--image", b)
    both, _ = _embed(sluice, mmproj, tmp_path / "12.f32", "--image", a, "--image", b)
    assert one.size == 260 * 3 * TEXT_HIDDEN and two.size == 10 * 3 * TEXT_HIDDEN
    assert np.array_equal(both, np.concatenate([one, two]))


# ---------------------------------------------------------------- malformed files

MALFORMED = {  # case -> keywords the error line names
    "missing_deepstack_tensor": ("missing tensor 'v.deepstack.2.fc2.weight'",),
    "missing_qkv": ("missing tensor 'v.blk.1.attn_qkv.weight'",),
    "missing_positions": ("missing tensor 'v.position_embd.weight'",),
    "wrong_qkv_shape": ("shape", "attn_qkv"),
    "no_gelu": ("use_gelu",),
    "deepstack_key_too_short": ("is_deepstack_layers",),
    "size_not_multiple": ("multiples of 32",),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_mmproj(case, sluice_mmproj, gguf_py_mmproj, sluice, tmp_path):
    good = sluice_mmproj("qwen3vl-tiny", "f16")
    _, pixels = _image(good, tmp_path, 64, 96)
    size = "64x96"
    bad = tmp_path / f"{case}.gguf"
    if case == "missing_deepstack_tensor":
        rewrite(str(good), str(bad), drop={"v.deepstack.2.fc2.weight"})
    elif case == "missing_qkv":
        rewrite(str(good), str(bad), drop={"v.blk.1.attn_qkv.weight"})
    elif case == "missing_positions":
        rewrite(str(good), str(bad), drop={"v.position_embd.weight"})
    elif case == "wrong_qkv_shape":  # same bytes, dimensions swapped: only the loader can tell
        shape = GgufLite(str(good)).tensors["v.blk.0.attn_qkv.weight"].shape
        rewrite(str(good), str(bad), shapes={"v.blk.0.attn_qkv.weight": list(reversed(shape))})
    elif case == "no_gelu":
        bad = gguf_py_mmproj("--drop-key", "clip.use_gelu", name="no-gelu")
    elif case == "deepstack_key_too_short":
        bad = gguf_py_mmproj("--layers", 2, name="l2")
        f = GgufLite(str(bad))
        assert len(f.metadata["clip.vision.is_deepstack_layers"]) == 2
        bad2 = tmp_path / "short.gguf"
        # a file of 2 layers claiming 3: the key no longer covers every layer
        raw = bytearray(f.buf)
        start, end = f.kv_spans["clip.vision.block_count"]
        raw[end - 4:end] = (3).to_bytes(4, "little")
        bad2.write_bytes(bytes(raw))
        bad = bad2
    elif case == "size_not_multiple":
        bad, size = good, "64x80"
    r = sluice("vision-embed", "--mmproj", bad, "--pixels", pixels, "--size", size, "-o", tmp_path / "out.f32",
               timeout=120)
    check_clean_error(r, MALFORMED[case], f"mmproj {case}")
