"""`sluice convert`: GGUF -> mlx-lm directory holding the same weights (docs/CONVERT.md).

For SmolLM2-135M (GGUF Q4_1 with a Q8_0 embedding; llama, so Q/K rows are un-permuted) and for
synthetic models (Q4_0, Q8_0, F16), checked per case:
  - mlx-lm in float32 on the directory and numpy float64 on the GGUF (two implementations that
    share no code with sluice) agree within EXACT_TOL rel-L2: the weights are the same;
  - `sluice logits` on the GGUF and on the directory are bit-identical (qwen3), or for llama
    (Q/K rows un-permuted, so other summation order) within 5e-4;
  - mlx-lm loads the directory and its logits are within the reference tests' TOL of sluice's
    (vs mlx-lm as users run it, or vs mlx-lm upcast to float32; as test_logits_reference.py);
  - HF `tokenizers` on the written tokenizer.json gives the ids `sluice tokenize` gives on the GGUF.
K-quants are refused without --allow-lossy and stated lossy with it; bad inputs fail cleanly.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from e2e_util import PROMPT_TEXT, THREADS, check_ok, read_f32, rel_l2
from test_logits_reference import TOL
from test_malformed_models import check_clean_error

EXACT_TOL = 1e-5
TEXTS = [
    PROMPT_TEXT,
    "Hello world! 12345 6789,  two  spaces\n\nnew lines\ttab 3.14159",
    "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "Ünïcödé — 漢字 🙂 can't WON'T I'm   trailing   ",
]
SYNTHETIC = [("qwen3", "gguf-q4_0"), ("qwen3", "gguf-q8_0"), ("qwen3", "gguf-f16"),
             ("llama", "gguf-q4_0")]


def _ids(ids) -> str:
    return " ".join(map(str, ids))


def _convert(sluice, src, out, *extra):
    return check_ok(sluice("convert", "-m", src, "-o", out, *extra), f"sluice convert {src}")


def _logits(sluice, model, ids, out):
    check_ok(sluice("logits", "-m", model, "--tokens", _ids(ids), "-o", out, "--threads", THREADS),
             f"sluice logits -m {model}")
    return read_f32(out)


def _check_model(sluice, reference, record, gguf, mlx_dir, ids, case, tmp_path, permuted,
                 native=True):
    """native=False: mlx-lm runs in float32 only (its native 16-bit compute on MLX's CPU build
    took 190 s for SmolLM2's 29 tokens on a 2-core Zen 1 VM; float32 takes 5 s)."""
    ours_gguf = _logits(sluice, gguf, ids, tmp_path / "gguf.f32")
    ours_mlx = _logits(sluice, mlx_dir, ids, tmp_path / "mlx_dir.f32")
    e_same = rel_l2(ours_mlx, ours_gguf)
    if native:
        reference("mlx_logits.py", mlx_dir, "--tokens", _ids(ids), "-o", tmp_path / "mlx.f32",
                  "--float32-out", tmp_path / "mlx_f32.f32", timeout=1800)
    else:
        reference("mlx_logits.py", mlx_dir, "--tokens", _ids(ids), "--dtype", "float32", "-o",
                  tmp_path / "mlx_f32.f32", timeout=1800)
    reference("gguf_numpy_logits.py", gguf, "--tokens", _ids(ids), "-o", tmp_path / "exact.f32",
              timeout=1800)
    mlx_f32, exact = (read_f32(tmp_path / n) for n in ("mlx_f32.f32", "exact.f32"))
    assert mlx_f32.shape == ours_mlx.shape, f"{case}: mlx-lm wrote {mlx_f32.shape[0]} logits"
    e_weights = rel_l2(mlx_f32, exact)
    e_peer32 = rel_l2(ours_mlx, mlx_f32)
    e_peer = rel_l2(ours_mlx, read_f32(tmp_path / "mlx.f32")) if native else None
    native_note = f"{e_peer:.2e}" if native else "not run"
    record(f"convert {case:<18} sluice GGUF vs sluice dir {e_same:.2e} "
           f"(bit-identical: {bool((ours_gguf == ours_mlx).all())}) | mlx-lm-fp32 on dir vs "
           f"numpy-f64 on GGUF {e_weights:.2e} | sluice dir vs mlx-lm {native_note}, vs mlx-lm-fp32 "
           f"{e_peer32:.2e} | sluice GGUF, dir vs numpy-f64 {rel_l2(ours_gguf, exact):.2e}, "
           f"{rel_l2(ours_mlx, exact):.2e}")
    # Same weights, seen by two independent implementations (mlx-lm reads the directory, numpy
    # the GGUF with the `gguf` package): only float32-vs-float64 rounding remains.
    assert e_weights <= EXACT_TOL, f"{case}: mlx-lm on the directory vs numpy on the GGUF: {e_weights:.3e}"
    if permuted:
        # Un-permuted Q/K change the order of sluice's head-dim sums (and RoPE kernel), which its
        # int16 activation rounding amplifies to ~1e-4 on 30 layers: both stay as close to exact.
        assert e_same <= 5e-4, f"{case}: the converted directory computes other logits ({e_same:.3e})"
    else:
        assert (ours_gguf == ours_mlx).all(), f"{case}: logits not bit-identical ({e_same:.3e})"
    assert (native and e_peer <= TOL) or e_peer32 <= TOL, \
        f"{case}: mlx-lm disagrees ({native_note}, {e_peer32:.3e})"


def _check_tokenizer(sluice, gguf, mlx_dir, record, case):
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(mlx_dir / "tokenizer.json"))
    for text in TEXTS:
        for add in (False, True):
            flags = ["--parse-special"] + (["--add-special"] if add else [])
            want = check_ok(sluice("tokenize", "-m", gguf, *flags, input=text), "sluice tokenize").stdout.split()
            got = [str(i) for i in hf.encode(text, add_special_tokens=add).ids]
            assert got == want, f"{case}: tokenizer.json and the GGUF disagree on {text!r} (add_special={add})"
            dir_ids = check_ok(sluice("tokenize", "-m", mlx_dir, *flags, input=text), "sluice tokenize").stdout.split()
            assert dir_ids == want, f"{case}: sluice on the converted directory tokenizes {text!r} differently"
    record(f"convert {case:<22} tokenizer.json == GGUF tokenizer on {len(TEXTS)} texts x 2 modes")


def _mlx_lm_chat(venv_python, mlx_dir, messages_path):
    """mlx-lm's tokenizer (transformers, as mlx_lm.load returns it): chat prompt and eos ids."""
    code = ("import json, sys; from mlx_lm.utils import load_tokenizer; from pathlib import Path; "
            "t = load_tokenizer(Path(sys.argv[1])); m = json.load(open(sys.argv[2])); "
            "print(json.dumps({'prompt': t.apply_chat_template(m, tokenize=False, add_generation_prompt=True), "
            "'eos': sorted(t.eos_token_ids)}))")
    r = subprocess.run([venv_python, "-c", code, str(mlx_dir), str(messages_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- SmolLM2 (GGUF Q4_1)


@pytest.fixture(scope="module")
def smollm2_mlx(sluice, smollm2_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("convert") / "smollm2-mlx"
    r = _convert(sluice, smollm2_path, out)
    return out, r.stderr


def test_smollm2_conversion_is_stated_exact(smollm2_mlx, record):
    out, stderr = smollm2_mlx
    assert "all 272 tensors exact" in stderr, stderr
    assert "Q4_1 -> MLX 4-bit g32 (F16 scales)" in stderr and "Q8_0 -> MLX 8-bit g32 (F16 scales)" in stderr
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "llama" and cfg["tie_word_embeddings"] is True
    assert cfg["quantization"] == {"group_size": 32, "bits": 4,
                                   "model.embed_tokens": {"group_size": 32, "bits": 8}}
    record("convert smollm2: " + " | ".join(l.strip() for l in stderr.splitlines()))


def test_smollm2_logits(smollm2_mlx, smollm2_path, sluice, reference, record, tmp_path):
    out, _ = smollm2_mlx
    ids = [int(i) for i in check_ok(sluice("tokenize", "-m", smollm2_path, input=PROMPT_TEXT),
                                    "tokenize").stdout.split()]
    _check_model(sluice, reference, record, smollm2_path, out, ids, "smollm2 Q4_1", tmp_path,
                 permuted=True, native=False)


def test_smollm2_tokenizer(smollm2_mlx, smollm2_path, sluice, record):
    _check_tokenizer(sluice, smollm2_path, smollm2_mlx[0], record, "smollm2")


def test_smollm2_chat_template_and_eos(smollm2_mlx, smollm2_path, sluice, venv_python, tmp_path):
    out, _ = smollm2_mlx
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    (tmp_path / "m.json").write_text(json.dumps(messages))
    want = check_ok(sluice("template", "-m", smollm2_path, "--messages", tmp_path / "m.json",
                           "--add-generation-prompt"), "sluice template").stdout
    got = _mlx_lm_chat(venv_python, out, tmp_path / "m.json")
    assert got["prompt"].strip() == want.strip()
    assert got["eos"] == [2]  # <|im_end|>, the GGUF's eos


# ---------------------------------------------------------------- synthetic models


@pytest.mark.parametrize("arch,fmt", SYNTHETIC)
def test_synthetic(arch, fmt, make_model, prompt_ids, sluice, reference, record, tmp_path):
    gguf = make_model(arch, fmt)
    out = tmp_path / "mlx"
    stderr = _convert(sluice, gguf, out).stderr
    assert "tensors exact" in stderr, stderr
    bits = {"gguf-q4_0": 4, "gguf-q8_0": 8}.get(fmt)
    cfg = json.loads((out / "config.json").read_text())
    if bits:
        assert cfg["quantization"]["bits"] == bits and cfg["quantization"]["group_size"] == 32
    else:
        assert "quantization" not in cfg
    _check_model(sluice, reference, record, gguf, out, prompt_ids(arch), f"{arch} {fmt}", tmp_path,
                 permuted=arch == "llama")
    _check_tokenizer(sluice, gguf, out, record, f"{arch} {fmt}")


# ---------------------------------------------------------------- K-quants: refused or stated lossy


def test_k_quant_refused_without_allow_lossy(make_model, sluice, tmp_path):
    out = tmp_path / "mlx"
    r = sluice("convert", "-m", make_model("qwen3", "gguf-q4_k"), "-o", out)
    check_clean_error(r, ["--allow-lossy"], "convert Q4_K")
    assert "Q4_K" in r.stderr or "Q6_K" in r.stderr
    assert not out.exists(), "a refused conversion wrote files"


def test_k_quant_lossy_is_stated(make_model, prompt_ids, sluice, record, tmp_path):
    gguf = make_model("qwen3", "gguf-q4_k")
    out = tmp_path / "mlx"
    stderr = _convert(sluice, gguf, out, "--allow-lossy").stderr
    assert "NOT lossless" in stderr and "LOSSY" in stderr, stderr
    ids = prompt_ids("qwen3")
    e = rel_l2(_logits(sluice, out, ids, tmp_path / "a.f32"), _logits(sluice, gguf, ids, tmp_path / "b.f32"))
    record(f"convert qwen3 gguf-q4_k --allow-lossy: logits rel-L2 vs the GGUF {e:.2e}; "
           + stderr.strip().splitlines()[-1])
    assert 0 < e < 0.2, e


# ---------------------------------------------------------------- bad input


def _write_gguf(path, arch, tokenizer_model="gpt2"):
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), arch)
    for key, v in [("embedding_length", 64), ("feed_forward_length", 128), ("block_count", 1),
                   ("attention.head_count", 2), ("context_length", 128)]:
        w.add_uint32(f"{arch}.{key}", v)
    w.add_tokenizer_model(tokenizer_model)
    w.add_token_list(["a", "b", "c", "d"])
    w.add_token_scores([0.0, -1.0, -2.0, -3.0])
    w.add_tensor("token_embd.weight", np.zeros((4, 64), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.mark.parametrize("case", ["missing", "directory", "not-gguf", "arch", "spm-vocab"])
def test_bad_input_fails_cleanly(case, sluice, tmp_path):
    src = {
        "missing": lambda: tmp_path / "nope.gguf",
        "directory": lambda: tmp_path,
        "not-gguf": lambda: (tmp_path / "x.gguf").write_bytes(b"not a gguf file at all") and tmp_path / "x.gguf",
        "arch": lambda: _write_gguf(tmp_path / "phi.gguf", "phi3"),
        "spm-vocab": lambda: _write_gguf(tmp_path / "spm.gguf", "llama", tokenizer_model="llama"),
    }[case]()
    keywords = {"missing": ["no such file"], "directory": ["only gguf input"], "not-gguf": ["gguf"],
                "arch": ["unsupported architecture 'phi3'"], "spm-vocab": ["tokenizer.ggml.model 'llama'"]}[case]
    r = sluice("convert", "-m", src, "-o", tmp_path / "out")
    check_clean_error(r, keywords, f"convert {case}")
