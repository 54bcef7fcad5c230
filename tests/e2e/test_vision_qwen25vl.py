"""The Qwen2.5-VL (and Qwen2-VL) vision tower (`sluice vision-embed`: the ViT + patch merger)
against llama.cpp's multimodal library (libmtmd through llama-cpp-python) and a numpy float64
reference written from transformers (tests/reference/numpy_qwen25vl_vision.py) on the same mmproj
files, written by `sluice make-model --vision qwen25vl-*` and by the `gguf` package as llama.cpp's
converter writes them (tests/reference/gguf_py_random_qwen25vl_mmproj.py).

Dynamic resolution: images of several sizes and aspect ratios whose sides are multiples of 28
(56x84, 112x56, 224x224, 168x308: one window, windows cut at the edges, several full windows).
mtmd would grow images under 8 tokens, so it runs with image_min_tokens 1 and copies these
pixels unresized; sluice gets them normalized in numpy. Other sizes go through both
preprocessors (sluice's media/smart_resize.h against mtmd's own resize) and must give the same
token count and embeddings. Bounds: sluice within 1e-2 of mtmd for float files (rel L2 over all
tokens; ggml rounds activations to f16 inside its products and uses a tanh GELU in the merger
where transformers has erf: ~1e-3 from exact), 2e-2 for Q8_0 ones (ggml also rounds the
activations of Q8_0 products to 8 bits: mtmd lies 0.9e-2..1.5e-2 from exact there, sluice, which
keeps them in float, ~5e-5), and within 1e-5 (float files) / 1e-4 (Q8_0) of the float64
reference. The 7B tower shape runs with 2 of its 32 layers and projects to the tiny text
model's width. Malformed files end in one clear error line.

The text model mtmd needs is the tiny qwen2 GGUF (vocabulary only: mtmd tokenizes the
<|vision_start|> and <|vision_end|> markers around the image with it).
"""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from e2e_util import REFERENCE_DIR, THREADS, check_ok, read_f32, rel_l2
from test_malformed_models import check_clean_error

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite, rewrite  # noqa: E402

TEXT_HIDDEN = 256  # the tiny qwen2 text model's width: every mmproj here projects to it
SIZES = [(56, 84), (112, 56), (224, 224), (168, 308)]
BOUNDS = {"f32": 1e-5, "f16": 1e-5, "q8_0": 1e-4}
MTMD_BOUNDS = {"f32": 1e-2, "f16": 1e-2, "q8_0": 2e-2}


@pytest.fixture(scope="module")
def text_model(make_model):
    return make_model("qwen2", "gguf-f16")


@pytest.fixture(scope="module")
def vision_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("qwen_vision")


@pytest.fixture(scope="module")
def sluice_mmproj(sluice, vision_dir):
    """sluice_mmproj(vision, mtype, layers=0) -> an mmproj by `make-model --vision`."""
    cache: dict = {}

    def make(vision: str, mtype: str, layers: int = 0):
        key = (vision, mtype, layers)
        if key not in cache:
            out = vision_dir / f"sluice-{vision}-{mtype}-l{layers}.gguf"
            args = ["make-model", "--arch", "qwen2vl", "--preset", "tiny", "-o",
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
    """gguf_py_mmproj(*flags, name=...) -> an mmproj by gguf_py_random_qwen25vl_mmproj.py."""

    def make(*flags, name: str):
        out = vision_dir / f"gguf-py-{name}.gguf"
        if not out.exists():
            args = [venv_python, REFERENCE_DIR / "gguf_py_random_qwen25vl_mmproj.py",
                    "--projection-dim", TEXT_HIDDEN, "-o", out, "--seed", 5, *flags]
            check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True,
                                    timeout=600), "gguf_py_random_qwen25vl_mmproj.py")
        return out

    return make


def _png(tmp_path, h, w, seed=0, name="image"):
    """A PNG of h x w pixels (gradients plus noise)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 255 / max(h + w - 2, 1)], -1)
    img = np.clip(img[:, :, rng.permutation(3)] + rng.normal(0, 25, (h, w, 3)), 0, 255)
    png = tmp_path / f"{name}-{h}x{w}.png"
    Image.fromarray(img.astype(np.uint8)).save(png)
    return png


def _image(mmproj, tmp_path, h, w, seed=0, name="image"):
    """A PNG of h x w and its pixels [3, h, w] normalized with the mmproj's mean/std."""
    from PIL import Image

    md = GgufLite(str(mmproj)).metadata
    png = _png(tmp_path, h, w, seed, name)
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / 255  # as mtmd reads it
    mean, std = (np.asarray(md[k], dtype=np.float32) for k in ("clip.vision.image_mean", "clip.vision.image_std"))
    pixels = tmp_path / f"{name}-{h}x{w}.f32"
    ((rgb - mean) / std).transpose(2, 0, 1).astype("<f4").tofile(pixels)
    return png, pixels


def _embed(sluice, mmproj, out, *inputs):
    r = check_ok(sluice("vision-embed", "--mmproj", mmproj, *inputs, "-o", out, "--threads", THREADS,
                        timeout=600), "sluice vision-embed")
    return read_f32(out), r


def _mtmd(reference, text_model, mmproj, png, out, *flags):
    r = reference("mtmd_image_embeddings.py", "--model", text_model, "--mmproj", mmproj, "--image", png,
                  "-o", out, "--threads", THREADS, *flags)
    return read_f32(out), r.stdout.strip()


def _compare(case, ours, mtmd, exact, record, exact_bound, note="", mtmd_bound=1e-2):
    assert ours.shape == mtmd.shape == exact.shape, (ours.shape, mtmd.shape, exact.shape)
    tokens = exact.reshape(-1, TEXT_HIDDEN)
    assert tokens.std() > 0.3 and np.abs(tokens - tokens[0]).max() > 0.3, "degenerate tokens"
    vs_mtmd, vs_exact, mtmd_exact = rel_l2(ours, mtmd), rel_l2(ours, exact), rel_l2(mtmd, exact)
    record(f"qwen vision {case}: {tokens.shape[0]} tokens; rel L2 sluice-vs-mtmd {vs_mtmd:.2e}, "
           f"sluice-vs-f64 {vs_exact:.2e}, mtmd-vs-f64 {mtmd_exact:.2e} ({note})")
    assert vs_mtmd <= mtmd_bound, f"{case}: sluice vs mtmd {vs_mtmd:.3g} > {mtmd_bound}"
    assert vs_exact <= exact_bound, f"{case}: sluice vs float64 {vs_exact:.3g} > {exact_bound}"


def _check(case, mmproj, text_model, sluice, reference, record, tmp_path, mtype, sizes=SIZES):
    for h, w in sizes:
        png, pixels = _image(mmproj, tmp_path, h, w)
        ours, _ = _embed(sluice, mmproj, tmp_path / "sluice.f32", "--pixels", pixels, "--size", f"{h}x{w}")
        mtmd, note = _mtmd(reference, text_model, mmproj, png, tmp_path / "mtmd.f32", "--image-min-tokens", 1)
        reference("numpy_qwen25vl_vision.py", "--mmproj", mmproj, "--pixels", pixels, "--size", f"{h}x{w}",
                  "-o", tmp_path / "exact.f32")
        assert ours.size == (h // 28) * (w // 28) * TEXT_HIDDEN
        _compare(f"{case} {h}x{w}", ours, mtmd, read_f32(tmp_path / "exact.f32"), record, BOUNDS[mtype], note,
                 MTMD_BOUNDS[mtype])


@pytest.mark.parametrize("mtype", ["f16", "f32", "q8_0"])
def test_sluice_written_tiny_vs_mtmd(mtype, sluice_mmproj, text_model, sluice, reference, record,
                                     tmp_path):
    _check(f"make-model qwen25vl-tiny {mtype}", sluice_mmproj("qwen25vl-tiny", mtype), text_model,
           sluice, reference, record, tmp_path, mtype)


@pytest.mark.parametrize("mtype", ["f16", "f32", "q8_0"])
def test_gguf_py_written_vs_mtmd(mtype, gguf_py_mmproj, text_model, sluice, reference, record,
                                 tmp_path):
    mmproj = gguf_py_mmproj("--type", mtype, name=f"small-{mtype}")
    _check(f"gguf-py small {mtype}", mmproj, text_model, sluice, reference, record, tmp_path,
           mtype, sizes=[(56, 84), (168, 308)])


def test_qwen25vl_7b_shape_vs_mtmd(sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    _check("make-model qwen25vl-7b (2 of 32 layers) f16", sluice_mmproj("qwen25vl-7b", "f16", layers=2),
           text_model, sluice, reference, record, tmp_path, "f16", sizes=[(224, 224)])


def test_gguf_py_qwen25vl_7b_shape_vs_mtmd(gguf_py_mmproj, text_model, sluice, reference, record,
                                           tmp_path):
    # 8 layers: the 8th is global, the others windowed, as in the real tower's first block of 8
    mmproj = gguf_py_mmproj("--preset", "qwen25vl-7b", "--layers", 8, name="7b-l8-f16")
    _check("gguf-py qwen25vl-7b (8 of 32 layers) f16", mmproj, text_model, sluice, reference, record,
           tmp_path, "f16", sizes=[(112, 168)])


@pytest.mark.parametrize("preset", ["qwen2vl-small", "qwen2vl-2b"])
def test_gguf_py_qwen2vl_vs_mtmd(preset, gguf_py_mmproj, text_model, sluice, reference, record,
                                 tmp_path):
    """Qwen2-VL: LayerNorm + quick GELU, no windows; its converter writes the text width as
    feed_forward_length, so the MLP's width comes from the tensors."""
    layers = ["--layers", 2] if preset == "qwen2vl-2b" else []
    mmproj = gguf_py_mmproj("--preset", preset, *layers, name=f"{preset}-f16")
    _check(f"gguf-py {preset} f16", mmproj, text_model, sluice, reference, record, tmp_path,
           "f16", sizes=[(112, 168)])


def test_legacy_ffn_names_read_by_shape(gguf_py_mmproj, sluice, tmp_path):
    """fc1/fc2 written as ffn_down/ffn_up (Qwen2-VL's old surgery script): read by shape."""
    legacy = gguf_py_mmproj("--legacy-ffn-names", name="small-legacy")
    _, pixels = _image(legacy, tmp_path, 56, 84)
    plain, _ = _embed(sluice, gguf_py_mmproj("--type", "f16", name="small-f16"), tmp_path / "a.f32",
                      "--pixels", pixels, "--size", "56x84")
    swapped, _ = _embed(sluice, legacy, tmp_path / "b.f32", "--pixels", pixels, "--size", "56x84")
    assert np.array_equal(plain, swapped)


@pytest.mark.parametrize("h,w", [(61, 100), (30, 40), (300, 200)])
def test_preprocessing_matches_mtmd(h, w, sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    """Sizes off the grid: sluice's smart resize (llama.cpp's rule, Pillow BICUBIC, black pad)
    against mtmd's own, with mtmd's default limits (8 to 4096 tokens)."""
    mmproj = sluice_mmproj("qwen25vl-tiny", "f16")
    png = _png(tmp_path, h, w, seed=4)
    pixels = tmp_path / "pre.f32"
    ours, r = _embed(sluice, mmproj, tmp_path / "sluice.f32", "--image", png, "--pixels-out", pixels)
    got = re.search(r"\((\d+)x(\d+)\)", r.stderr)
    assert got, r.stderr
    rh, rw = int(got[1]), int(got[2])
    assert rh % 28 == 0 and rw % 28 == 0 and (rh, rw) != (h, w)
    mtmd, note = _mtmd(reference, text_model, mmproj, png, tmp_path / "mtmd.f32")
    assert mtmd.size == ours.size, f"token counts differ: mtmd {mtmd.size // TEXT_HIDDEN}, sluice {ours.size // TEXT_HIDDEN} ({rh}x{rw})"
    reference("numpy_qwen25vl_vision.py", "--mmproj", mmproj, "--pixels", pixels, "--size", f"{rh}x{rw}",
              "-o", tmp_path / "exact.f32")
    _compare(f"preprocessed {h}x{w} -> {rh}x{rw}", ours, mtmd, read_f32(tmp_path / "exact.f32"), record,
             BOUNDS["f16"], note)


def test_images_of_different_sizes_batched_equal_each_alone(sluice_mmproj, sluice, tmp_path):
    """Two images in one call give each image's rows bit for bit (the CPU backend is batch-invariant)."""
    mmproj = sluice_mmproj("qwen25vl-tiny", "f16")
    a, b = _png(tmp_path, 168, 308, seed=1, name="a"), _png(tmp_path, 84, 56, seed=2, name="b")
    one, _ = _embed(sluice, mmproj, tmp_path / "1.f32", "--image", a)
    two, _ = _embed(sluice, mmproj, tmp_path / "2.f32", "--image", b)
    both, _ = _embed(sluice, mmproj, tmp_path / "12.f32", "--image", a, "--image", b)
    assert one.size == 66 * TEXT_HIDDEN and two.size == 12 * TEXT_HIDDEN  # 84x56 grows to 112x84
    assert np.array_equal(both, np.concatenate([one, two]))


def test_windows_matter(sluice_mmproj, gguf_py_mmproj, sluice, tmp_path):
    """The windowed layers change the result once an image spans several windows, and not before:
    n_wa_pattern 1 (every layer global) against the file's."""
    mmproj = sluice_mmproj("qwen25vl-tiny", "f16")
    f = GgufLite(str(mmproj))
    every_layer_global = tmp_path / "global.gguf"
    raw = bytearray(f.buf)
    start, end = f.kv_spans["clip.vision.n_wa_pattern"]
    assert raw[end - 4:end] == (2).to_bytes(4, "little")
    raw[end - 4:end] = (1).to_bytes(4, "little")
    every_layer_global.write_bytes(bytes(raw))
    for (h, w), same in (((112, 112), True), ((224, 224), False)):
        _, pixels = _image(mmproj, tmp_path, h, w)
        a, _ = _embed(sluice, mmproj, tmp_path / "w.f32", "--pixels", pixels, "--size", f"{h}x{w}")
        b, _ = _embed(sluice, every_layer_global, tmp_path / "g.f32", "--pixels", pixels, "--size", f"{h}x{w}")
        assert np.array_equal(a, b) == same, (h, w, rel_l2(a, b))


# ---------------------------------------------------------------- malformed files

MALFORMED = {  # case -> keywords the error line names
    "missing_tensor": ("missing tensor",),
    "wrong_shape": ("shape",),
    "missing_merger": ("mm.2.bias",),
    "no_window_pattern": ("n_wa_pattern",),
    "no_silu": ("use_silu",),
    "unsupported_projector": ("not supported",),
    "size_not_multiple": ("multiples of 28",),
    "pixels_wrong_size": ("bytes",),
    "truncated": ("truncat", "end of file", "past the end", "beyond", "exceeds", "short"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_mmproj(case, sluice_mmproj, gguf_py_mmproj, sluice, tmp_path):
    good = sluice_mmproj("qwen25vl-tiny", "f16")
    _, pixels = _image(good, tmp_path, 56, 84)
    size = "56x84"
    bad = tmp_path / f"{case}.gguf"
    if case == "missing_tensor":
        rewrite(str(good), str(bad), drop={"v.blk.1.attn_k.weight"})
    elif case == "wrong_shape":  # same bytes, dimensions swapped: only the loader can tell
        shape = GgufLite(str(good)).tensors["v.blk.0.ffn_gate.weight"].shape
        rewrite(str(good), str(bad), shapes={"v.blk.0.ffn_gate.weight": list(reversed(shape))})
    elif case == "missing_merger":
        rewrite(str(good), str(bad), drop={"mm.2.bias"})
    elif case == "no_window_pattern":
        bad = gguf_py_mmproj("--drop-key", "clip.vision.n_wa_pattern", name="no-wa")
    elif case == "no_silu":
        bad = gguf_py_mmproj("--drop-key", "clip.use_silu", name="no-silu")
    elif case == "unsupported_projector":
        bad = gguf_py_mmproj("--projector-type", "glm4v", name="glm4v")
    elif case == "size_not_multiple":
        bad, size = good, "56x70"
    elif case == "pixels_wrong_size":
        bad, size = good, "56x56"
    elif case == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    r = sluice("vision-embed", "--mmproj", bad, "--pixels", pixels, "--size", size, "-o", tmp_path / "out.f32",
               timeout=120)
    check_clean_error(r, MALFORMED[case], f"mmproj {case}")
