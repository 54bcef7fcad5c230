"""Vision towers read from Hugging Face / mlx-vlm VLM directories (`sluice vision-embed --mmproj
DIR`): make-model's tiny Gemma 3, Qwen2.5-VL and Qwen3-VL towers written once as llama.cpp's
mmproj (`make-model --vision`) and once as a checkpoint directory by the same writer's
write_hf_vision_tower (the hidden `make-vision-dir`: transformers' names and layouts, or
mlx-vlm's), with the same values, must encode real photos alike:
  F32 directory vs F32 mmproj    1e-3 (Qwen: the same floats; Gemma 3's mmproj always stores
                                 its input projection in F16)
  BF16 directory vs F16 mmproj   1e-2 (the weights' BF16 rounding)
and the F32 directory's soft tokens match the float64 numpy references (tests/reference/
numpy_*_vision.py, written from transformers) run on the mmproj. transformers itself parses the
directories' config.json and preprocessor_config.json. Broken directories give one error line
naming the key or tensor.
"""
from __future__ import annotations

import json
import re
import struct
import subprocess

import numpy as np
import pytest

from e2e_util import REPO, THREADS, check_ok, read_f32, rel_l2
from test_malformed_models import check_clean_error

TEXT_HIDDEN = 256  # the tiny text models' width: every tower here projects to it
PHOTOS = [REPO / "tests" / "data" / "media" / p for p in ("photo_640x427.png", "photo_24x61_420.jpg")]
FAMILIES = {  # vision preset -> (make-model --arch of the text side, float64 reference)
    "tiny": ("gemma3", "numpy_gemma3_vision.py"),
    "qwen25vl-tiny": ("qwen2vl", "numpy_qwen25vl_vision.py"),
    "qwen3vl-tiny": ("qwen3", "numpy_qwen3vl_vision.py"),
}
VARIANTS = {  # directory variant -> (make-vision-dir flags, mmproj type, bound vs that mmproj)
    "f32": (["--dtype", "F32"], "f32", 1e-3),
    "bf16": (["--dtype", "BF16"], "f16", 1e-2),
    "mlx-bf16": (["--dtype", "BF16", "--mlx"], "f16", 1e-2),
}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("vision_hf_dir")


@pytest.fixture(scope="module")
def mmproj(sluice, work):
    """mmproj(preset, mtype) -> make-model's mmproj of the tower (seed 3)."""
    cache: dict = {}

    def make(preset: str, mtype: str):
        if (preset, mtype) not in cache:
            out = work / f"{preset}-{mtype}.gguf"
            check_ok(sluice("make-model", "--arch", FAMILIES[preset][0], "--preset", "tiny", "-o",
                            work / f"text-{preset}.gguf", "--vision", preset, "--mmproj", out,
                            "--mmproj-type", mtype, "--seed", 3), "make-model --vision")
            cache[(preset, mtype)] = out
        return cache[(preset, mtype)]

    return make


@pytest.fixture(scope="module")
def tower_dir(sluice, work):
    """tower_dir(preset, variant) -> the same tower as a VLM directory (seed 3)."""
    cache: dict = {}

    def make(preset: str, variant: str):
        if (preset, variant) not in cache:
            out = work / f"{preset}-{variant}"
            check_ok(sluice("make-vision-dir", "--vision", preset, "--projection-dim", TEXT_HIDDEN,
                            "--seed", 3, *VARIANTS[variant][0], "-o", out), "make-vision-dir")
            cache[(preset, variant)] = out
        return cache[(preset, variant)]

    return make


def _embed(sluice, tower, out, *inputs):
    r = check_ok(sluice("vision-embed", "--mmproj", tower, *inputs, "-o", out, "--threads", THREADS,
                        timeout=600), "sluice vision-embed")
    return read_f32(out), re.search(r"\(([\dx ]+)\)", r.stderr)[1]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("preset", list(FAMILIES))
def test_directory_encodes_as_the_mmproj(preset, variant, mmproj, tower_dir, sluice, record, tmp_path):
    """Both photos in one call: the same preprocessing (sizes read back from the directory's
    preprocessor_config.json) and the same soft tokens."""
    _, mtype, bound = VARIANTS[variant]
    photos = [a for p in PHOTOS for a in ("--image", p)]
    ref, ref_sizes = _embed(sluice, mmproj(preset, mtype), tmp_path / "mmproj.f32", *photos)
    ours, sizes = _embed(sluice, tower_dir(preset, variant), tmp_path / "dir.f32", *photos)
    assert sizes == ref_sizes, f"preprocessed sizes differ: directory {sizes}, mmproj {ref_sizes}"
    assert ours.shape == ref.shape and ref.std() > 0.3
    err = rel_l2(ours, ref)
    record(f"vision dir {preset} {variant} vs mmproj {mtype}: {ours.size // TEXT_HIDDEN} rows "
           f"({sizes}), rel L2 {err:.2e}")
    assert err <= bound, f"{preset} {variant}: rel L2 {err:.3g} > {bound}"


@pytest.mark.parametrize("preset", list(FAMILIES))
def test_directory_matches_the_float64_reference(preset, mmproj, tower_dir, sluice, reference, record,
                                                tmp_path):
    """The F32 directory against the numpy float64 tower (run on the F32 mmproj: the same
    weights but Gemma 3's F16 input projection) on the photo as the directory preprocessed it."""
    pixels = tmp_path / "pixels.f32"
    ours, size = _embed(sluice, tower_dir(preset, "f32"), tmp_path / "dir.f32", "--image", PHOTOS[0],
                        "--pixels-out", pixels)
    args = ["--mmproj", mmproj(preset, "f32"), "--pixels", pixels, "-o", tmp_path / "exact.f32"]
    if preset != "tiny":
        args += ["--size", size]
    reference(FAMILIES[preset][1], *args)
    exact = read_f32(tmp_path / "exact.f32")
    err = rel_l2(ours, exact)
    bound = 1e-3 if preset == "tiny" else 1e-5
    record(f"vision dir {preset} f32 vs float64 reference: rel L2 {err:.2e} ({size})")
    assert ours.shape == exact.shape and err <= bound, f"{preset}: rel L2 {err:.3g} > {bound}"


TRANSFORMERS_CHECK = r"""
import json, sys
from transformers import AutoConfig, AutoImageProcessor
c = AutoConfig.from_pretrained(sys.argv[1])
p = AutoImageProcessor.from_pretrained(sys.argv[1])
v = c.vision_config
out = {"type": type(c).__name__, "mean": list(p.image_mean), "std": list(p.image_std)}
if out["type"] == "Gemma3Config":
    out.update(width=v.hidden_size, layers=v.num_hidden_layers, image=v.image_size,
               tokens=c.mm_tokens_per_image, text=c.text_config.hidden_size)
else:
    out.update(width=v.hidden_size, layers=v.depth, out=v.out_hidden_size,
               min=p.size.shortest_edge, max=p.size.longest_edge)
    out["full"] = list(getattr(v, "fullatt_block_indexes", []) or [])
    out["deepstack"] = list(getattr(v, "deepstack_visual_indexes", []) or [])
print(json.dumps(out))
"""


def test_transformers_reads_the_directories(tower_dir, venv_python):
    """transformers' own config classes and image processors parse what make-vision-dir wrote
    (its modeling code needs torch, which the venv lacks)."""
    got = {}
    for preset in FAMILIES:
        r = check_ok(subprocess.run([venv_python, "-c", TRANSFORMERS_CHECK, str(tower_dir(preset, "bf16"))],
                                    capture_output=True, text=True, timeout=300), "transformers")
        got[preset] = json.loads(r.stdout.strip().splitlines()[-1])
    g, q25, q3 = got["tiny"], got["qwen25vl-tiny"], got["qwen3vl-tiny"]
    assert (g["type"], g["width"], g["layers"], g["image"], g["tokens"], g["text"]) == \
        ("Gemma3Config", 96, 2, 224, 16, TEXT_HIDDEN)
    assert np.allclose(g["mean"], 0.5) and np.allclose(g["std"], 0.5)
    assert (q25["type"], q25["width"], q25["layers"], q25["out"], q25["full"]) == \
        ("Qwen2_5_VLConfig", 96, 4, TEXT_HIDDEN, [1, 3])
    assert (q25["min"], q25["max"]) == (8 * 28 * 28, 4096 * 28 * 28)  # llama.cpp's limits, as the mmproj
    assert np.allclose(q25["mean"], [0.48145466, 0.4578275, 0.40821073])
    assert (q3["type"], q3["width"], q3["deepstack"], q3["min"]) == ("Qwen3VLConfig", 96, [0, 2], 8 * 32 * 32)


# ---------------------------------------------------------------- broken directories


def _rewrite_safetensors(src, dst, drop=(), shapes=None):
    """A copy of a safetensors file without `drop`, with `shapes` {name: shape} replacing the
    header's (the bytes stay: only a loader that checks shapes can tell)."""
    raw = src.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out, blobs, at = {}, [], 0
    for name, t in header.items():
        if name == "__metadata__":
            out[name] = t
            continue
        if name in drop:
            continue
        begin, end = t["data_offsets"]
        blobs.append(data[begin:end])
        out[name] = {"dtype": t["dtype"], "shape": (shapes or {}).get(name, t["shape"]),
                     "data_offsets": [at, at + end - begin]}
        at += end - begin
    text = json.dumps(out).encode()
    text += b" " * (-len(text) % 8)
    dst.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def _copy_dir(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


BROKEN = {  # case -> (preset, keywords of the one error line)
    "missing_qkv": ("qwen25vl-tiny", ("missing tensor 'visual.blocks.1.attn.qkv.weight'",)),
    "missing_deepstack": ("qwen3vl-tiny", ("missing tensor 'model.visual.deepstack_merger_list.1.norm.weight'",)),
    "misshapen_conv": ("qwen3vl-tiny", ("'model.visual.patch_embed.proj.weight' has shape [96, 2, 3, 16, 16]",)),
    "misshapen_gemma_conv": ("tiny", ("patch_embedding.weight' has shape [96, 14, 3, 14]",)),
    "irregular_window_layers": ("qwen25vl-tiny", ("vision_config.fullatt_block_indexes [1,2]",)),
    "no_preprocessor": ("qwen3vl-tiny", ("preprocessor_config.json",)),
    "no_tower": ("tiny", ("no vision tower tensors",)),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_directory_is_one_clear_error(case, tower_dir, sluice, tmp_path):
    preset, keywords = BROKEN[case]
    bad = _copy_dir(tower_dir(preset, "f32"), tmp_path / "bad")
    st = bad / "model.safetensors"  # a tower-only directory's one file
    if case == "missing_qkv":
        _rewrite_safetensors(st, st, drop={"visual.blocks.1.attn.qkv.weight"})
    elif case == "missing_deepstack":
        _rewrite_safetensors(st, st, drop={"model.visual.deepstack_merger_list.1.norm.weight"})
    elif case == "misshapen_conv":
        _rewrite_safetensors(st, st, shapes={"model.visual.patch_embed.proj.weight": [96, 2, 3, 16, 16]})
    elif case == "misshapen_gemma_conv":
        name = "vision_tower.vision_model.embeddings.patch_embedding.weight"
        _rewrite_safetensors(st, st, shapes={name: [96, 14, 3, 14]})
    elif case == "irregular_window_layers":
        config = json.loads((bad / "config.json").read_text())
        config["vision_config"]["fullatt_block_indexes"] = [1, 2]
        (bad / "config.json").write_text(json.dumps(config))
    elif case == "no_preprocessor":
        (bad / "preprocessor_config.json").unlink()
    elif case == "no_tower":
        header = json.loads(st.read_bytes()[8:8 + struct.unpack("<Q", st.read_bytes()[:8])[0]])
        _rewrite_safetensors(st, st, drop={n for n in header if n.startswith("vision_tower.")})
    r = sluice("vision-embed", "--mmproj", bad, "--image", PHOTOS[1], "-o", tmp_path / "out.f32", timeout=120)
    check_clean_error(r, tuple(k.lower() for k in keywords), f"directory {case}")
    assert "[vision] " + str(bad) in r.stderr, r.stderr


# ---------------------------------------------------------------- serving a VLM directory

SERVE_TEMPLATE = REPO / "tests" / "data" / "templates" / "qwen3vl_test.jinja"


@pytest.fixture(scope="module")
def vlm_dir(sluice, work):
    """make-model's Qwen3-VL directory (text and tower, seed 3), its tower then rewritten in F32
    (the F32 mmproj's exact values) by make-vision-dir over it."""
    out = work / "qwen3vl-vlm"
    r = sluice("make-model", "--arch", "qwen3vl", "--preset", "tiny", "--format", "safetensors-bf16",
               "--seed", 3, "--vision", "qwen3vl-tiny", "-o", out)
    cannot = ("GGUF only", "write_hf_vision_tower", "--vision needs --mmproj")  # before h-vltext
    if r.returncode != 0 and any(c in r.stderr for c in cannot):
        pytest.skip(f"make-model cannot write a VLM directory in this build: {r.stderr.strip()}")
    check_ok(r, "make-model --format safetensors-bf16 --vision qwen3vl-tiny")
    check_ok(sluice("make-vision-dir", "--vision", "qwen3vl-tiny", "--projection-dim", TEXT_HIDDEN,
                    "--seed", 3, "--dtype", "F32", "-o", out), "make-vision-dir over make-model's")
    return out


def _ask_with_image(server) -> tuple[str, list[float]]:
    import base64

    import openai

    png = base64.b64encode(PHOTOS[1].read_bytes()).decode()
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)
    r = client.chat.completions.create(model="m", temperature=0, max_tokens=6, logprobs=True,
                                       extra_body={"ignore_eos": True}, messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is in this photo?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + png}}]}])
    return r.choices[0].message.content, [t.logprob for t in r.choices[0].logprobs.content]


def _serve(sluice_bin, model, *args):
    from server_util import SluiceServer

    return SluiceServer(sluice_bin, "-m", model, "--chat-template", SERVE_TEMPLATE, "--threads", "1",
                        "--deterministic", *args)


def test_served_directory_brings_its_own_tower(vlm_dir, mmproj, sluice, sluice_bin, work):
    """Without --mmproj the directory's tower encodes the image: the same answer and log-probs,
    bit for bit, as the same directory served with the same tower's F32 mmproj; an explicit
    --mmproj (another seed's tower) wins over the directory's own."""
    with _serve(sluice_bin, vlm_dir) as s:
        own = _ask_with_image(s)
    with _serve(sluice_bin, vlm_dir, "--mmproj", mmproj("qwen3vl-tiny", "f32")) as s:
        same = _ask_with_image(s)
    other = work / "qwen3vl-seed4.gguf"
    check_ok(sluice("make-model", "--arch", "qwen3", "--preset", "tiny", "-o", work / "text-seed4.gguf",
                    "--vision", "qwen3vl-tiny", "--mmproj", other, "--mmproj-type", "f32", "--seed", 4),
             "make-model --seed 4")
    with _serve(sluice_bin, vlm_dir, "--mmproj", other) as s:
        explicit = _ask_with_image(s)
    assert own == same, f"directory tower {own} vs its mmproj {same}"
    assert explicit[1] != own[1], "--mmproj did not replace the directory's tower"


def test_directory_without_tower_tensors_serves_text(vlm_dir, sluice_bin, tmp_path):
    """A text-only conversion keeps config.json's vision_config: served as text with a warning;
    an image is then a 400."""
    import openai

    text_only = _copy_dir(vlm_dir, tmp_path / "text-only")
    tower = "model-00002-of-00002.safetensors"  # make-model's second shard
    (text_only / tower).unlink()
    index = text_only / "model.safetensors.index.json"
    j = json.loads(index.read_text())
    j["weight_map"] = {k: v for k, v in j["weight_map"].items() if v != tower}
    index.write_text(json.dumps(j))
    with _serve(sluice_bin, text_only) as s:
        with pytest.raises(openai.BadRequestError, match="takes no images"):
            _ask_with_image(s)
        warning = "".join(s.stderr_lines)
    assert "has a vision_config but no vision tower tensors" in warning, warning
