"""`sluice tokenize -m FILE.gguf` against llama.cpp's vocab goldens.

For every $SLUICE_TESTDATA/vocab/*.gguf there is a .inp and a .out file (from llama.cpp's
tests). In .inp every case is followed by the line `__ggml_vocab_test__`: the case text is what
lies between two separators, without the newline that precedes `__ggml_vocab_test__` (so a case of
"\\n" reads as an empty line, then the separator). .out has one line per case with the expected
ids separated by spaces. The goldens were made as llama.cpp's test-tokenizer-0 does: no BOS, special
token text treated as plain text, which is also what `sluice tokenize` does by default.

Each case runs the real binary with the case text on stdin (bytes, unchanged) and compares stdout,
one line of space-separated ids.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTDATA = Path(os.environ.get("SLUICE_TESTDATA", REPO.parent / "shared" / "testdata"))
SEPARATOR = b"\n__ggml_vocab_test__\n"


def read_cases(gguf: Path) -> list[tuple[bytes, list[int]]]:
    raw = gguf.with_name(gguf.name + ".inp").read_bytes()
    texts = raw.split(SEPARATOR)
    # The file ends with a separator, so the split leaves one empty tail.
    assert texts[-1] == b"", f"{gguf.name}.inp does not end with the separator"
    texts = texts[:-1]
    lines = gguf.with_name(gguf.name + ".out").read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    assert len(texts) == len(lines), f"{gguf.name}: {len(texts)} inputs, {len(lines)} outputs"
    return [(t, [int(x) for x in line.split()]) for t, line in zip(texts, lines)]


def all_cases():
    params = []
    for gguf in sorted(TESTDATA.glob("vocab/*.gguf")):
        for i, (text, ids) in enumerate(read_cases(gguf)):
            params.append(pytest.param(gguf, text, ids, id=f"{gguf.stem}-{i}"))
    return params


CASES = all_cases()


def test_goldens_found():
    assert len(CASES) >= 6 * 46, f"expected the vocab goldens under {TESTDATA / 'vocab'}"


@pytest.mark.parametrize("gguf,text,want", CASES)
def test_tokenize_matches_llama_cpp(sluice_bin, gguf, text, want):
    r = subprocess.run([str(sluice_bin), "tokenize", "-m", str(gguf)], input=text,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")[-2000:]
    got = [int(x) for x in r.stdout.decode("ascii").split()]
    assert got == want, f"text {text!r}"
