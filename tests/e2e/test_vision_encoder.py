"""The Gemma 3 vision tower (`sluice vision-embed`: SigLIP encoder + Gemma 3 projector) against
llama.cpp's multimodal library (libmtmd through llama-cpp-python) and a numpy float64 reference
(tests/reference/numpy_gemma3_vision.py) on the same mmproj files, written by
`sluice make-model --vision` and by the `gguf` package as llama.cpp's converter writes them
(tests/reference/gguf_py_random_gemma3_mmproj.py).

Images are PNGs already of the tower's size, so mtmd copies their pixels unresized; sluice gets
the same pixels normalized with the mmproj's mean/std in numpy. Bounds: sluice within 1e-2 of
mtmd (rel L2 over all soft tokens; ggml rounds activations to f16 / q8_0 inside its products:
~5e-4 / ~7e-3 from exact) and within 1e-5 (float files) / 1e-4 (Q8_0) of the float64 reference.
The Gemma 3 4B shape runs with 2 of its 27 layers (widths, 896 px, 4096 patches and 256 tokens
as the real model); the full tower is a benchmark (bench/README.md), minutes on 2 cores.
Malformed files end in one clear error line, as tests/e2e/test_malformed_models.py checks.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from e2e_util import REFERENCE_DIR, THREADS, check_ok, read_f32, rel_l2
from test_malformed_models import check_clean_error

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite, rewrite  # noqa: E402

TEXT_HIDDEN = 256  # the tiny gemma3 text model's width: every mmproj here projects to it


@pytest.fixture(scope="module")
def text_model(make_model):
    return make_model("gemma3", "gguf-f16")


@pytest.fixture(scope="module")
def vision_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("vision")


@pytest.fixture(scope="module")
def sluice_mmproj(sluice, vision_dir):
    """sluice_mmproj(vision, mtype, layers=0) -> an mmproj by `make-model --vision`."""
    cache: dict = {}

    def make(vision: str, mtype: str, layers: int = 0):
        key = (vision, mtype, layers)
        if key not in cache:
            out = vision_dir / f"sluice-{vision}-{mtype}-l{layers}.gguf"
            args = ["make-model", "--arch", "gemma3", "--preset", "tiny", "-o",
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
    """gguf_py_mmproj(*flags, name=...) -> an mmproj by gguf_py_random_gemma3_mmproj.py."""

    def make(*flags, name: str):
        out = vision_dir / f"gguf-py-{name}.gguf"
        if not out.exists():
            args = [venv_python, REFERENCE_DIR / "gguf_py_random_gemma3_mmproj.py",
                    "--projection-dim", TEXT_HIDDEN, "-o", out, "--seed", 5, *flags]
            check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True,
                                    timeout=600), "gguf_py_random_gemma3_mmproj.py")
        return out

    return make


def _image(mmproj, tmp_path, seed=0, name="image"):
    """A PNG of the tower's size (gradients plus noise) and its normalized pixels [3, S, S]."""
    from PIL import Image

    md = GgufLite(str(mmproj)).metadata
    s = int(md["clip.vision.image_size"])
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:s, 0:s]
    img = np.stack([x * 255 / (s - 1), y * 255 / (s - 1), (x + y) * 255 / (2 * s - 2)], -1)
    img = np.clip(img[:, :, rng.permutation(3)] + rng.normal(0, 25, (s, s, 3)), 0, 255)
    png = tmp_path / f"{name}.png"
    Image.fromarray(img.astype(np.uint8)).save(png)
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / 255  # as mtmd reads it
    mean, std = (np.asarray(md[k], dtype=np.float32) for k in ("clip.vision.image_mean", "clip.vision.image_std"))
    pixels = tmp_path / f"{name}.f32"
    ((rgb - mean) / std).transpose(2, 0, 1).astype("<f4").tofile(pixels)
    return png, pixels


def _embed(sluice, mmproj, pixels, out):
    check_ok(sluice("vision-embed", "--mmproj", mmproj, "--pixels", pixels, "-o", out,
                    "--threads", THREADS, timeout=600), "sluice vision-embed")
    return read_f32(out)


def _check(case, mmproj, text_model, sluice, reference, record, tmp_path, exact_bound):
    png, pixels = _image(mmproj, tmp_path)
    ours = _embed(sluice, mmproj, pixels, tmp_path / "sluice.f32")
    r = reference("mtmd_image_embeddings.py", "--model", text_model, "--mmproj", mmproj, "--image", png,
                  "-o", tmp_path / "mtmd.f32", "--threads", THREADS)
    mtmd = read_f32(tmp_path / "mtmd.f32")
    reference("numpy_gemma3_vision.py", "--mmproj", mmproj, "--pixels", pixels, "-o", tmp_path / "exact.f32")
    exact = read_f32(tmp_path / "exact.f32")
    assert ours.shape == mtmd.shape == exact.shape, (ours.shape, mtmd.shape, exact.shape)
    tokens = exact.reshape(-1, TEXT_HIDDEN)
    assert tokens.std() > 0.3 and np.abs(tokens - tokens[0]).max() > 0.3, "degenerate soft tokens"
    vs_mtmd, vs_exact, mtmd_exact = rel_l2(ours, mtmd), rel_l2(ours, exact), rel_l2(mtmd, exact)
    record(f"vision {case}: {tokens.shape[0]} tokens; rel L2 sluice-vs-mtmd {vs_mtmd:.2e}, "
           f"sluice-vs-f64 {vs_exact:.2e}, mtmd-vs-f64 {mtmd_exact:.2e} ({r.stdout.strip()})")
    assert vs_mtmd <= 1e-2, f"{case}: sluice vs mtmd {vs_mtmd:.3g}"
    assert vs_exact <= exact_bound, f"{case}: sluice vs float64 {vs_exact:.3g} > {exact_bound}"


BOUNDS = {"f32": 1e-5, "f16": 1e-5, "q8_0": 1e-4}


@pytest.mark.parametrize("mtype", ["f16", "f32", "q8_0"])
def test_sluice_written_tiny_vs_mtmd(mtype, sluice_mmproj, text_model, sluice, reference, record,
                                     tmp_path):
    _check(f"make-model tiny {mtype}", sluice_mmproj("tiny", mtype), text_model, sluice, reference,
           record, tmp_path, BOUNDS[mtype])


@pytest.mark.parametrize("mtype", ["f16", "f32", "q8_0"])
def test_gguf_py_written_vs_mtmd(mtype, gguf_py_mmproj, text_model, sluice, reference, record,
                                 tmp_path):
    mmproj = gguf_py_mmproj("--type", mtype, name=f"small-{mtype}")
    _check(f"gguf-py small {mtype}", mmproj, text_model, sluice, reference, record, tmp_path,
           BOUNDS[mtype])


def test_gemma3_4b_shape_vs_mtmd(sluice_mmproj, text_model, sluice, reference, record, tmp_path):
    _check("make-model gemma3-4b (2 of 27 layers) f16", sluice_mmproj("gemma3-4b", "f16", layers=2),
           text_model, sluice, reference, record, tmp_path, BOUNDS["f16"])


def test_gguf_py_gemma3_4b_shape_vs_mtmd(gguf_py_mmproj, text_model, sluice, reference, record,
                                         tmp_path):
    mmproj = gguf_py_mmproj("--preset", "gemma3-4b", "--layers", 2, name="4b-l2-f16")
    _check("gguf-py gemma3-4b (2 of 27 layers) f16", mmproj, text_model, sluice, reference, record,
           tmp_path, BOUNDS["f16"])


def test_legacy_ffn_names_read_by_shape(gguf_py_mmproj, text_model, sluice, reference, record,
                                        tmp_path):
    """Older converters wrote fc1 as ffn_down: sluice, like llama.cpp, tells them by shape."""
    legacy = gguf_py_mmproj("--legacy-ffn-names", name="small-legacy")
    _, pixels = _image(legacy, tmp_path)
    plain = _embed(sluice, gguf_py_mmproj("--type", "f16", name="small-f16"), pixels, tmp_path / "a.f32")
    assert np.array_equal(_embed(sluice, legacy, pixels, tmp_path / "b.f32"), plain)
    _check("gguf-py small legacy ffn names", legacy, text_model, sluice, reference, record, tmp_path,
           BOUNDS["f16"])


def test_images_batched_equal_each_alone(sluice_mmproj, sluice, tmp_path):
    """Two images in one call give each image's rows bit for bit (the CPU backend is batch-invariant)."""
    mmproj = sluice_mmproj("tiny", "f16")
    _, a = _image(mmproj, tmp_path, seed=1, name="a")
    _, b = _image(mmproj, tmp_path, seed=2, name="b")
    both = tmp_path / "both.f32"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    one, two = _embed(sluice, mmproj, a, tmp_path / "1.f32"), _embed(sluice, mmproj, b, tmp_path / "2.f32")
    assert not np.array_equal(one, two)
    assert np.array_equal(_embed(sluice, mmproj, both, tmp_path / "12.f32"), np.concatenate([one, two]))


# ---------------------------------------------------------------- malformed files

MALFORMED = {  # case -> keywords the error line names
    "missing_tensor": ("missing tensor", "v.blk.1.attn_k.weight"),
    "wrong_shape": ("shape",),
    "unsupported_projector": ("not supported", "idefics3"),
    "missing_key": ("missing key", "block_count"),
    "no_gelu": ("use_gelu",),
    "text_model_as_mmproj": ("projector_type", "mmproj"),
    "truncated": ("truncat", "end of file", "past the end", "beyond", "exceeds", "short"),
    "pixels_wrong_size": ("bytes", "float32"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_mmproj(case, sluice_mmproj, gguf_py_mmproj, text_model, sluice, tmp_path):
    good = sluice_mmproj("tiny", "f16")
    _, pixels = _image(good, tmp_path)
    bad = tmp_path / f"{case}.gguf"
    if case == "missing_tensor":
        rewrite(str(good), str(bad), drop={"v.blk.1.attn_k.weight"})
    elif case == "wrong_shape":  # same bytes, dimensions swapped: only the loader can tell
        shape = GgufLite(str(good)).tensors["v.blk.0.ffn_up.weight"].shape
        rewrite(str(good), str(bad), shapes={"v.blk.0.ffn_up.weight": list(reversed(shape))})
    elif case == "unsupported_projector":
        bad = gguf_py_mmproj("--projector-type", "idefics3", name="idefics3")
    elif case == "missing_key":
        bad = gguf_py_mmproj("--drop-key", "clip.vision.block_count", name="no-block-count")
    elif case == "no_gelu":
        bad = gguf_py_mmproj("--drop-key", "clip.use_gelu", name="no-gelu")
    elif case == "text_model_as_mmproj":
        bad = text_model
    elif case == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    elif case == "pixels_wrong_size":
        bad, short = good, tmp_path / "short.f32"
        short.write_bytes(pixels.read_bytes()[:-4])
        pixels = short
    r = sluice("vision-embed", "--mmproj", bad, "--pixels", pixels, "-o", tmp_path / "out.f32", timeout=120)
    check_clean_error(r, MALFORMED[case], f"mmproj {case}")


def test_unmodified_mmproj_runs(sluice_mmproj, sluice, tmp_path):
    good = sluice_mmproj("tiny", "f16")
    _, pixels = _image(good, tmp_path)
    _embed(sluice, good, pixels, tmp_path / "out.f32")
