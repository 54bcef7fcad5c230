"""Qwen3-VL's language model with images: deepstack and image positions, against llama.cpp.

Until the Qwen3-VL vision tower runs, both sides take the same precomputed wide image rows,
[tokens, hidden * (1 + 3)] (the row spliced into the input, then the deepstack slices added
after layers 0, 1, 2): `sluice logits --image-embeddings` (in one step, and in 5-token steps
that start inside the images) and tests/reference/llama_embd_logits.py (llama_decode with four
position planes per row, as libmtmd's helper builds them). Two images of 4x6 and 7x3 tokens
between text. The last logits agree within rel L2 1e-2 and llama.cpp's greedy tokens are
sluice's argmax, token by token; llama.cpp's logits with the deepstack slices zeroed are
farther than 1e-2 from sluice's, so the bound sees a deepstack that is switched off.
On make-model's qwen3vl file; qwen3vlmoe: test_qwen3vlmoe_deepstack.py (each file < 30 s).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from e2e_util import THREADS, check_ok, read_f32, rel_l2

TOL = 1e-2
HIDDEN, DEEPSTACK = 256, 3  # make-model's tiny preset and gguf_py_random_model.py
GRIDS = {"a": (4, 6), "b": (7, 3)}
PROMPT = "151644 872 198 <image> 3838 374 419 30 <image> 9707 11 1879 151645 198"


@pytest.fixture(scope="module")
def image_args(tmp_path_factory):
    """--image-embeddings / --image-grid arguments of the two images' random wide rows."""
    d = tmp_path_factory.mktemp("qwen3vl_rows")
    rng = np.random.default_rng(11)
    args = []
    for name, (r, c) in GRIDS.items():
        e = rng.normal(0, 1.0, (r * c, HIDDEN * (1 + DEEPSTACK))).astype("<f4")
        e[:, :HIDDEN] *= 0.05  # the spliced row about as large as a token embedding
        e[:, HIDDEN:] *= 0.5
        e.tofile(d / f"{name}.f32")
        args += ["--image-embeddings", d / f"{name}.f32", "--image-grid", f"{r}x{c}"]
    return args


def test_deepstack_images_vs_llama_cpp(make_model, sluice, reference, record, image_args,
                                       tmp_path):
    check_images("qwen3vl", make_model("qwen3vl", "gguf-f16", seed=4), sluice, reference, record,
                 image_args, tmp_path)


def check_images(arch, model, sluice, reference, record, image_args, tmp_path):
    """The checks above on one model (also test_qwen3vlmoe_deepstack.py's)."""
    ref_json = tmp_path / "ref.json"
    reference("llama_embd_logits.py", model, "--tokens", PROMPT, *image_args, "-o",
              tmp_path / "ref.f32", "--flat-output", tmp_path / "flat.f32", "--json", ref_json,
              "-n", "3", "--threads", THREADS)
    peer, flat = read_f32(tmp_path / "ref.f32"), read_f32(tmp_path / "flat.f32")
    greedy = json.loads(ref_json.read_text())["greedy"]

    def ours(tokens, step, out):
        check_ok(sluice("logits", "-m", model, "--tokens", tokens, *image_args, "-o", out,
                        "--threads", THREADS, "--max-num-batched-tokens", step), "sluice logits")
        return read_f32(out)

    whole = None
    for step in (0, 5):  # 0: the prompt in one step
        got = ours(PROMPT, step, tmp_path / f"s{step}.f32")
        e, e_flat = rel_l2(got, peer), rel_l2(got, flat)
        record(f"{arch} images+deepstack step {step or 'all'}: rel-L2 vs llama.cpp {e:.2e}, "
               f"vs llama.cpp without deepstack {e_flat:.2e}")
        assert e <= TOL and e_flat > TOL, (step, e, e_flat)
        assert got.argmax() == peer.argmax() == greedy[0]
        whole = got if whole is None else whole
        np.testing.assert_allclose(got, whole, rtol=0, atol=1e-4 * np.abs(whole).max())
    for k in range(1, len(greedy)):  # llama.cpp's greedy continuation, one token at a time
        got = ours(PROMPT + " " + " ".join(map(str, greedy[:k])), 7, tmp_path / f"g{k}.f32")
        assert int(got.argmax()) == greedy[k], (k, int(got.argmax()), greedy)
