"""Logits on GGUF files written by llama.cpp's own Python writer (the `gguf` package), not by sluice.

tests/reference/gguf_py_random_model.py writes a random-weight model with `gguf.GGUFWriter` and
`gguf.quants.quantize`, laid out as convert_hf_to_gguf.py would; sluice is then judged against
llama.cpp and numpy float64 exactly as test_logits_reference.py judges sluice's own files.
"""
from __future__ import annotations

import subprocess

import pytest

from e2e_util import REFERENCE_DIR, check_ok
from test_logits_reference import _check_gguf


@pytest.mark.parametrize("arch", ["llama", "qwen3", "qwen3moe", "qwen2vl"])
@pytest.mark.parametrize("qtype", ["f16", "q4_0"])  # q8_0 passes too (~1e-4); kept out for CI time
def test_logits_gguf_py_writer(arch, qtype, make_model, prompt_ids, venv_python, sluice, reference,
                               record, tmp_path):
    tokenizer = make_model("llama" if arch == "llama" else "qwen3", "gguf-f16")  # qwen3's for qwen*
    model = tmp_path / f"gguf-py-{arch}-{qtype}.gguf"
    args = [venv_python, REFERENCE_DIR / "gguf_py_random_model.py", "--arch", arch, "--type", qtype,
            "--tokenizer-from", tokenizer, "-o", model, "--seed", "7"]
    check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600),
             "gguf_py_random_model.py")
    _check_gguf(model, prompt_ids(arch), f"{arch} gguf-py {qtype}", sluice, reference, record,
                tmp_path)
