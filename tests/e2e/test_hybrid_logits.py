"""Logits of the hybrid linear-attention models (Qwen3.5, Qwen3.5-MoE, Qwen3-Next) on files the
peers' own tools wrote, not sluice.

tests/reference/gguf_py_random_hybrid.py writes a tiny random model (3 gated delta net layers, one
gated full-attention layer; 2 key / 4 value heads in the delta net) with `gguf.GGUFWriter`, laid out
as llama.cpp's converter does; tests/reference/hf_random_qwen35.py writes the same weights as a
transformers-style directory. sluice is judged against llama.cpp (+ numpy float64) on the GGUF and
against mlx-lm on the directory, by test_logits_reference's rule, and must pick the same greedy
token as the exact result; `sluice run --temp 0` must decode llama.cpp's greedy text (the recurrent
state carried through decode steps, and through prefill chunks). test_hybrid_references_agree
checks the references among themselves.
"""
from __future__ import annotations

import ast
import subprocess

import numpy as np
import pytest

from e2e_util import PROMPT_TEXT, REFERENCE_DIR, THREADS, check_ok, read_f32, rel_l2
from test_logits_reference import _ids, _judge, _sluice_logits

ARCHS = ["qwen35", "qwen35moe", "qwen3next"]
SEED = 16  # MoE files: every router top-2 vs 3rd gap on PROMPT_TEXT >= 0.047


def _gguf(arch, qtype, make_model, venv_python, tmp_path):
    tokenizer = make_model("qwen3", "gguf-f16")
    model = tmp_path / f"gguf-py-{arch}-{qtype}.gguf"
    args = [venv_python, REFERENCE_DIR / "gguf_py_random_hybrid.py", "--arch", arch, "--type", qtype,
            "--tokenizer-from", tokenizer, "-o", model, "--seed", SEED]
    check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600),
             "gguf_py_random_hybrid.py")
    return model


def _hf_dir(arch, make_model, venv_python, tmp_path, dtype="bf16"):
    tokenizer_dir = make_model("qwen3", "safetensors-bf16")
    model = tmp_path / f"hf-{arch}-{dtype}"
    args = [venv_python, REFERENCE_DIR / "hf_random_qwen35.py", "--arch", arch, "--tokenizer-dir",
            tokenizer_dir, "-o", model, "--seed", SEED, "--dtype", dtype]
    check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600),
             "hf_random_qwen35.py")
    return model


def _same_greedy(case, ours, exact):
    top2 = np.sort(exact)[-2:]
    assert ours.argmax() == exact.argmax(), (
        f"{case}: greedy token {ours.argmax()} != {exact.argmax()} "
        f"(exact top-2 margin {top2[1] - top2[0]:.3g})")


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("qtype", ["f32", "f16", "q8_0", "q4_0"])
def test_logits_hybrid_gguf_vs_llama_cpp(arch, qtype, make_model, prompt_ids, venv_python, sluice,
                                         reference, record, tmp_path):
    model = _gguf(arch, qtype, make_model, venv_python, tmp_path)
    _check_gguf(model, prompt_ids(arch), f"{arch} gguf-py {qtype}", sluice, reference, record,
                tmp_path)


def _check_gguf(model, ids, case, sluice, reference, record, tmp_path):
    """sluice against llama.cpp and the float64 numpy reference on one GGUF file."""
    ours = _sluice_logits(sluice, model, ids, tmp_path / "sluice.f32")
    reference("llama_logits.py", model, "--tokens", _ids(ids), "-o", tmp_path / "llama.f32",
              "--threads", THREADS)
    reference("gguf_numpy_logits.py", model, "--tokens", _ids(ids), "-o", tmp_path / "exact.f32")
    exact = read_f32(tmp_path / "exact.f32")
    _judge(record, case, ours, read_f32(tmp_path / "llama.f32"), exact, "llama.cpp", "numpy-f64")
    _same_greedy(case, ours, exact)


@pytest.mark.parametrize("arch", ARCHS)
def test_logits_hybrid_hf_vs_mlx_lm(arch, make_model, prompt_ids, venv_python, sluice, reference,
                                    record, tmp_path):
    model, ids = _hf_dir(arch, make_model, venv_python, tmp_path), prompt_ids(arch)
    ours = _sluice_logits(sluice, model, ids, tmp_path / "sluice.f32")
    # MLX's CPU build runs the experts' gathered products (GatherMM) in float32 only.
    f32_only = ["--dtype", "float32"] if arch != "qwen35" else []
    reference("mlx_logits.py", model, "--tokens", _ids(ids), "-o", tmp_path / "mlx.f32",
              "--float32-out", tmp_path / "mlx_f32.f32", *f32_only)
    case = f"{arch} hf safetensors-bf16"
    exact = read_f32(tmp_path / "mlx_f32.f32")
    _judge(record, case, ours, read_f32(tmp_path / "mlx.f32"), exact, "mlx-lm", "mlx-lm-fp32")
    _same_greedy(case, ours, exact)


# Greedy decoding on the F32 files, whose smallest llama.cpp top-2 gap over the 16 steps is 0.009
# (qwen3next), 0.031 (qwen35), 0.039 (qwen35moe): far above llama.cpp's ~1e-4 distance from exact.
# Prefill in chunks of 8 tokens carries the conv and delta-net states across engine steps.
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("prefill", ["whole", "chunks-of-8"])
def test_greedy_hybrid_gguf_matches_llama_cpp(arch, prefill, make_model, venv_python, sluice,
                                              reference, record, tmp_path):
    model, n = _gguf(arch, "f32", make_model, venv_python, tmp_path), 16
    r = reference("llama_greedy.py", model, "-p", PROMPT_TEXT, "-n", n, "--threads", THREADS, "--ids")
    info = {k: ast.literal_eval(v) for k, _, v in (ln.partition(": ") for ln in r.stderr.splitlines())
            if k in ("prompt ids", "generated ids", "top-2 margins")}
    chunks = ["--max-num-batched-tokens", "8"] if prefill == "chunks-of-8" else []
    got = check_ok(sluice("run", "-m", model, "-p", PROMPT_TEXT, "-n", n, "--temp", "0",
                          "--threads", THREADS, *chunks), "sluice run").stdout.rstrip("\n")
    # Random tokens may end mid-character: compare without the replacement characters.
    same = got.replace("\ufffd", "") == r.stdout.replace("\ufffd", "")
    record(f"greedy {arch:<10} prefill {prefill:<12} {'match' if same else 'MISMATCH'}; llama.cpp "
           f"smallest top-2 gap {min(info.get('top-2 margins', [float('nan')])):.3f}")
    assert same, (f"{arch}: sluice {got!r}\n  llama.cpp {r.stdout!r}\n  llama.cpp prompt ids "
                  f"{info.get('prompt ids')}, generated ids {info.get('generated ids')}, "
                  f"top-2 gaps {info.get('top-2 margins')}")


# The references among themselves (no sluice): llama.cpp and numpy on the F32 GGUF, mlx-lm in
# float32 on the directory of the same weights. They agree only if the GGUF writer converts as
# llama.cpp's converter does (V-head order, +1 norms, -exp(A_log), qkvz split) and the numpy
# forward reads that layout as llama.cpp does: measured 2e-5 (llama.cpp's f16 KV cache), 3e-7.
@pytest.mark.parametrize("arch", ARCHS)
def test_hybrid_references_agree(arch, make_model, prompt_ids, venv_python, reference, record,
                                 tmp_path):
    gguf_model, ids = _gguf(arch, "f32", make_model, venv_python, tmp_path), prompt_ids(arch)
    hf_model = _hf_dir(arch, make_model, venv_python, tmp_path, dtype="f32")
    tokens = _ids(ids)
    reference("llama_logits.py", gguf_model, "--tokens", tokens, "-o", tmp_path / "llama.f32",
              "--threads", THREADS)
    reference("gguf_numpy_logits.py", gguf_model, "--tokens", tokens, "-o", tmp_path / "exact.f32")
    reference("mlx_logits.py", hf_model, "--tokens", tokens, "-o", tmp_path / "mlx.f32")
    llama, exact, mlx = (read_f32(tmp_path / f) for f in ("llama.f32", "exact.f32", "mlx.f32"))
    assert llama.shape == exact.shape == mlx.shape, (llama.shape, exact.shape, mlx.shape)
    e_llama, e_mlx = rel_l2(llama, exact), rel_l2(mlx, exact)
    record(f"references {arch:<10} rel-L2 vs numpy-f64: llama.cpp f32 {e_llama:.2e} | mlx-lm f32 "
           f"{e_mlx:.2e} | logits std {exact.std():.2f}")
    assert e_llama <= 2e-4 and e_mlx <= 1e-5, f"{arch}: references disagree"
    assert llama.argmax() == exact.argmax() == mlx.argmax()
    assert exact.std() > 1.0, f"{arch}: logits nearly flat (std {exact.std():.3g})"


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("fmt", ["gguf-f16", "gguf-q8_0", "gguf-q4_k"])
def test_logits_hybrid_make_model_gguf_vs_llama_cpp(arch, fmt, make_model, prompt_ids, sluice,
                                                    reference, record, tmp_path):
    """sluice's own writer lays hybrid files out as llama.cpp reads them (qwen35's value heads
    reordered, Qwen3-Next's fused ssm_ba, -exp(A_log), norms with the +1)."""
    _check_gguf(make_model(arch, fmt, seed=SEED), prompt_ids(arch), f"{arch} make-model {fmt}",
                sluice, reference, record, tmp_path)
