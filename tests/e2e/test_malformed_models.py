"""Malformed model files: every case ends in ONE clear error line, never a crash.

Each case derives a broken file from a good `sluice make-model` output and runs
`sluice run -m BAD -p hi -n 1` (or `sluice tokenize` for vocabulary problems). Expected:
  - exit code > 0 (not 0, not killed by a signal);
  - stderr is exactly one non-empty line, containing "error" (the convention is
    `sluice: error: [where] what`), with no stack trace, assertion or sanitizer report;
  - the line names the problem: one of the case's keywords (case-insensitive).
"""
from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

import pytest

from e2e_util import REFERENCE_DIR

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite, rewrite  # noqa: E402

CRASH_MARKERS = ("Assertion", "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "terminate called", "Traceback", "Segmentation", "core dumped",
                 "SLUICE_ASSERT", "what():", "Aborted")

GGUF_ARCH, GGUF_FORMAT = "qwen3", "gguf-q8_0"
GGUF_TYPE_UNKNOWN = 99  # not a ggml type


def check_clean_error(r, keywords, what):
    err = r.stderr
    detail = f"{what}: exit {r.returncode}\nstderr:\n{err[-3000:]}\nstdout:\n{r.stdout[-500:]}"
    assert r.returncode != 0, "accepted a malformed model: " + detail
    assert r.returncode > 0, "killed by a signal: " + detail
    for marker in CRASH_MARKERS:
        assert marker not in err, f"crash marker {marker!r} on stderr: " + detail
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected exactly one error line, got {len(lines)}: " + detail
    line = lines[0].lower()
    assert "error" in line, "the line does not say 'error': " + detail
    assert any(k in line for k in keywords), f"the line names none of {keywords}: " + detail


# ---------------------------------------------------------------- building broken files


def _linked_copy(src: Path, dst: Path) -> Path:
    """A model directory whose files are hard links (cheap); replace a file with _replace()."""
    dst.mkdir()
    for f in src.iterdir():
        os.link(f, dst / f.name)
    return dst


def _replace(path: Path, data) -> None:
    path.unlink(missing_ok=True)  # never write through a hard link into the original
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


def _truncate(src: Path, dst: Path, n: int) -> Path:
    with open(src, "rb") as f:
        dst.write_bytes(f.read(n))
    return dst


def _patch(src: Path, dst: Path, offset: int, data: bytes) -> Path:
    buf = bytearray(src.read_bytes())
    buf[offset:offset + len(data)] = data
    dst.write_bytes(bytes(buf))
    return dst


def _split_safetensors(path: Path):
    buf = path.read_bytes()
    (n,) = struct.unpack_from("<Q", buf, 0)
    return json.loads(buf[8:8 + n]), buf[8 + n:]


def _join_safetensors(header: dict, data: bytes) -> bytes:
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def _drop_tensor(header: dict, data: bytes, name: str):
    """Removes a tensor and re-lays out the data section."""
    out_header, chunks, off = {}, [], 0
    for k, v in header.items():
        if k == "__metadata__":
            out_header[k] = v
            continue
        if k == name:
            continue
        b, e = v["data_offsets"]
        chunks.append(data[b:e])
        out_header[k] = dict(v, data_offsets=[off, off + (e - b)])
        off += e - b
    return out_header, b"".join(chunks)


def _tensor_like(header: dict, fragment: str) -> str:
    return sorted(k for k in header if fragment in k)[0]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def good_gguf(make_model):
    return make_model(GGUF_ARCH, GGUF_FORMAT)


@pytest.fixture(scope="module")
def good_st(make_model):
    return make_model("qwen3", "safetensors-bf16")


@pytest.fixture(scope="module")
def good_mlx(make_model):
    return make_model("qwen3", "mlx-4", group_size=64)


def _run_bad(sluice, model):
    return sluice("run", "-m", model, "-p", "hi", "-n", 1, "--threads", 1, timeout=120)


def _tokenize_bad(sluice, model):
    return sluice("tokenize", "-m", model, input="hello world", timeout=120)


# ---------------------------------------------------------------- controls: the originals load


@pytest.mark.parametrize("which", ["good_gguf", "good_st", "good_mlx"])
def test_unmodified_models_run(which, request, sluice):
    model = request.getfixturevalue(which)
    r = _run_bad(sluice, model)
    assert r.returncode == 0, f"the unmodified model fails, so the cases below prove nothing:\n{r.stderr}"


# ---------------------------------------------------------------- GGUF


def _gguf_case(name, good: Path, tmp: Path) -> tuple[Path, tuple]:
    f = GgufLite(str(good))
    size = good.stat().st_size
    dst = tmp / f"{name}.gguf"
    trunc = ("truncat", "end of file", "eof", "past the end", "beyond", "exceeds", "short")
    attn_k = "blk.0.attn_k.weight"
    if name == "truncated_header":
        return _truncate(good, dst, 12), trunc
    if name == "truncated_metadata":
        return _truncate(good, dst, (f.kv_start + f.tensor_infos_start) // 2), trunc
    if name == "truncated_tensor_infos":
        return _truncate(good, dst, (f.tensor_infos_start + f.tensor_infos_end) // 2), trunc
    if name == "truncated_tensor_data":
        return _truncate(good, dst, (f.data_start + size) // 2), trunc
    if name == "empty_file":
        return _truncate(good, dst, 0), trunc + ("empty", "magic")
    if name == "bad_magic":
        return _patch(good, dst, 0, b"GGUX"), ("magic",)
    if name == "version_1":
        return _patch(good, dst, 4, struct.pack("<I", 1)), ("version",)
    if name == "version_99":
        return _patch(good, dst, 4, struct.pack("<I", 99)), ("version",)
    if name == "unknown_tensor_type":
        rewrite(str(good), str(dst), types={attn_k: GGUF_TYPE_UNKNOWN})
        return dst, ("type",)
    if name == "missing_tensor":
        rewrite(str(good), str(dst), drop={attn_k})
        return dst, ("missing", "not found", "no tensor")
    if name == "wrong_shape":
        # Same byte size, dimensions swapped: only the model loader can tell.
        t = f.tensors[attn_k]
        assert t.shape[0] != t.shape[1] and t.shape[1] % 32 == 0
        rewrite(str(good), str(dst), shapes={attn_k: list(reversed(t.shape))})
        return dst, ("shape", "dimension", "dims")
    if name == "huge_tensor_count":
        return _patch(good, dst, 8, struct.pack("<Q", 1 << 60)), trunc + ("tensor count", "too many", "count")
    if name == "huge_string_length":
        # First metadata key's length field -> 2^62.
        return _patch(good, dst, f.kv_start, struct.pack("<Q", 1 << 62)), trunc + ("length", "string", "too long")
    raise AssertionError(name)


GGUF_CASES = ["truncated_header", "truncated_metadata", "truncated_tensor_infos", "truncated_tensor_data",
              "empty_file", "bad_magic", "version_1", "version_99", "unknown_tensor_type", "missing_tensor",
              "wrong_shape", "huge_tensor_count", "huge_string_length"]


@pytest.mark.parametrize("case", GGUF_CASES)
def test_malformed_gguf(case, good_gguf, sluice, tmp_path):
    bad, keywords = _gguf_case(case, good_gguf, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"gguf {case}")


# ---------------------------------------------------------------- mixture of experts (GGUF)


@pytest.fixture(scope="module")
def good_moe(make_model):
    return make_model("qwen3moe", "gguf-q8_0")


def _moe_case(name, good: Path, tmp: Path) -> tuple[Path, tuple]:
    f = GgufLite(str(good))
    dst = tmp / f"{name}.gguf"
    exps = "blk.1.ffn_up_exps.weight"
    if name == "missing_experts":
        rewrite(str(good), str(dst), drop={exps})
        return dst, ("missing",)
    if name == "missing_router":
        rewrite(str(good), str(dst), drop={"blk.0.ffn_gate_inp.weight"})
        return dst, ("missing",)
    if name == "experts_as_one_matrix":  # [cols, rows, experts] flattened to 2-D: same bytes
        c, r, e = f.tensors[exps].shape
        rewrite(str(good), str(dst), shapes={exps: [c, r * e]})
        return dst, ("shape",)
    if name == "experts_count_swapped":  # [cols, experts, rows]: same bytes, wrong layout
        c, r, e = f.tensors[exps].shape
        rewrite(str(good), str(dst), shapes={exps: [c, e, r]})
        return dst, ("shape",)
    raise AssertionError(name)


def test_unmodified_moe_runs(good_moe, sluice):
    r = _run_bad(sluice, good_moe)
    assert r.returncode == 0, f"the unmodified MoE model fails, so the cases below prove nothing:\n{r.stderr}"


@pytest.mark.parametrize("case", ["missing_experts", "missing_router", "experts_as_one_matrix",
                                  "experts_count_swapped"])
def test_malformed_moe_gguf(case, good_moe, sluice, tmp_path):
    bad, keywords = _moe_case(case, good_moe, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"moe gguf {case}")


# ---------------------------------------------------------------- gpt-oss (MXFP4 experts)


@pytest.fixture(scope="module")
def good_gpt_oss(make_model):
    return make_model("gpt-oss", "gguf-mxfp4")


def test_unmodified_gpt_oss_runs(good_gpt_oss, sluice):
    r = _run_bad(sluice, good_gpt_oss)
    assert r.returncode == 0, f"the unmodified gpt-oss model fails, so the cases below prove nothing:\n{r.stderr}"


def _gpt_oss_case(name, good: Path, tmp: Path) -> tuple[Path, tuple]:
    f = GgufLite(str(good))
    dst = tmp / f"{name}.gguf"
    exps = "blk.1.ffn_down_exps.weight"
    if name == "mxfp4_nan_scale":  # an E8M0 scale of 255 (NaN) in the 3rd block
        data = bytearray(good.read_bytes())
        data[f.data_start + f.tensors[exps].offset + 2 * 17] = 255
        dst.write_bytes(bytes(data))
        return dst, ("NaN", "ffn_down_exps")
    if name == "missing_sinks":
        rewrite(str(good), str(dst), drop={"blk.2.attn_sinks.weight"})
        return dst, ("missing", "attn_sinks")
    if name == "missing_expert_bias":
        rewrite(str(good), str(dst), drop={"blk.0.ffn_up_exps.bias"})
        return dst, ("missing",)
    if name == "truncated_experts":  # the expert tensor's shape claims one expert more
        c, r, e = f.tensors[exps].shape
        rewrite(str(good), str(dst), shapes={exps: [c, r, e + 1]})
        return dst, ("shape",)
    raise AssertionError(name)


@pytest.mark.parametrize("case", ["mxfp4_nan_scale", "missing_sinks", "missing_expert_bias",
                                  "truncated_experts"])
def test_malformed_gpt_oss_gguf(case, good_gpt_oss, sluice, tmp_path):
    bad, keywords = _gpt_oss_case(case, good_gpt_oss, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"gpt-oss gguf {case}")


# ---------------------------------------------------------------- hybrid (gated delta-net state)


@pytest.fixture(scope="module")
def good_hybrid(make_model):
    return make_model("qwen35", "gguf-q8_0")


def test_unmodified_hybrid_runs(good_hybrid, sluice):
    r = _run_bad(sluice, good_hybrid)
    assert r.returncode == 0, f"the unmodified hybrid model fails, so the cases below prove nothing:\n{r.stderr}"


def _hybrid_case(name, good: Path, tmp: Path) -> tuple[Path, tuple]:
    f = GgufLite(str(good))
    dst = tmp / f"{name}.gguf"
    conv = "blk.1.ssm_conv1d.weight"
    if name == "missing_state_decay":
        rewrite(str(good), str(dst), drop={"blk.0.ssm_a"})
        return dst, ("ssm_a",)
    if name == "missing_conv":
        rewrite(str(good), str(dst), drop={conv})
        return dst, ("ssm_conv1d",)
    if name == "conv_kernel_2":  # [4, C] read as [2, 2C]: same bytes, a kernel of 2
        k, c = f.tensors[conv].shape
        rewrite(str(good), str(dst), shapes={conv: [k // 2, c * 2]})
        return dst, ("kernel size 4",)
    if name == "missing_state_size":
        _rewrite_drop_keys(good, dst, {"qwen35.ssm.state_size"})
        return dst, ("ssm.state_size",)
    raise AssertionError(name)


@pytest.mark.parametrize("case", ["missing_state_decay", "missing_conv", "conv_kernel_2",
                                  "missing_state_size"])
def test_malformed_hybrid_gguf(case, good_hybrid, sluice, tmp_path):
    bad, keywords = _hybrid_case(case, good_hybrid, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"hybrid gguf {case}")


def test_gguf_without_vocabulary(good_gguf, sluice, tmp_path):
    """Vocabulary-level problem: the token list is missing -> tokenize fails cleanly."""
    bad = tmp_path / "novocab.gguf"
    _rewrite_drop_keys(good_gguf, bad, {"tokenizer.ggml.tokens"})
    check_clean_error(_tokenize_bad(sluice, bad), ("token", "vocab"), "gguf without tokenizer.ggml.tokens")
    check_clean_error(_run_bad(sluice, bad), ("token", "vocab"), "gguf without tokenizer.ggml.tokens (run)")


def _rewrite_drop_keys(src: Path, dst: Path, keys: set) -> None:
    f = GgufLite(str(src))
    buf = f.buf
    kv = b"".join(buf[s:e] for k, (s, e) in f.kv_spans.items() if k not in keys)
    n_kv = len(f.kv_spans) - len(keys & f.kv_spans.keys())
    head = buf[:8] + struct.pack("<QQ", len(f.tensors), n_kv)
    infos = buf[f.tensor_infos_start:f.tensor_infos_end]
    body = head + kv + infos
    body += b"\0" * ((-len(body)) % f.alignment)
    dst.write_bytes(body + buf[f.data_start:])


# ---------------------------------------------------------------- safetensors / MLX directories


def _gpt_oss_hf_case(name, good: Path, tmp: Path) -> tuple[Path, tuple]:
    d = _linked_copy(good, tmp / name)
    st = d / "model.safetensors"
    header, data = _split_safetensors(st)
    blocks = "model.layers.1.mlp.experts.down_proj_blocks"
    if name == "hf_missing_scales":
        header, data = _drop_tensor(header, data, "model.layers.1.mlp.experts.down_proj_scales")
        _replace(st, _join_safetensors(header, data))
        return d, ("missing", "down_proj_scales")
    if name == "hf_nan_scale":  # an E8M0 scale of 255 (NaN) in the 3rd block
        scales = header["model.layers.1.mlp.experts.down_proj_scales"]["data_offsets"][0]
        data = bytearray(data)
        data[scales + 2] = 255
        _replace(st, _join_safetensors(header, bytes(data)))
        return d, ("NaN", "down_proj_blocks")
    if name == "hf_blocks_shape":  # 8 bytes a block where MXFP4 has 16
        e, r, g, _ = header[blocks]["shape"]
        header[blocks]["shape"] = [e, r, g * 2, 8]
        _replace(st, _join_safetensors(header, data))
        return d, ("shape", "down_proj_blocks")
    raise AssertionError(name)


@pytest.mark.parametrize("case", ["hf_missing_scales", "hf_nan_scale", "hf_blocks_shape"])
def test_malformed_gpt_oss_hf_mxfp4(case, make_model, sluice, tmp_path):
    good = make_model("gpt-oss", "safetensors-mxfp4")
    assert _run_bad(sluice, good).returncode == 0, "the unmodified HF MXFP4 gpt-oss fails"
    bad, keywords = _gpt_oss_hf_case(case, good, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"gpt-oss HF MXFP4 {case}")


def _dir_case(name, good_st: Path, good_mlx: Path, tmp: Path) -> tuple[Path, tuple]:
    src = good_mlx if name.startswith("mlx_") else good_st
    d = _linked_copy(src, tmp / name)
    st = d / "model.safetensors"
    trunc = ("truncat", "end of file", "eof", "past the end", "beyond", "exceeds", "short")
    if name == "st_truncated":
        data = st.read_bytes()
        _replace(st, data[: len(data) // 2])
        return d, trunc
    if name == "st_truncated_in_header":
        data = st.read_bytes()
        (n,) = struct.unpack_from("<Q", data, 0)
        _replace(st, data[: 8 + n // 2])
        return d, trunc + ("header",)
    if name == "st_bad_header_json":
        data = bytearray(st.read_bytes())
        (n,) = struct.unpack_from("<Q", data, 0)
        junk = b'{"not json' + b" " * (n - 10)
        data[8:8 + n] = junk
        _replace(st, bytes(data))
        return d, ("json", "header", "parse")
    if name == "st_header_length_past_eof":
        data = bytearray(st.read_bytes())
        data[0:8] = struct.pack("<Q", len(data) + 1000)
        _replace(st, bytes(data))
        return d, trunc + ("header",)
    if name in ("st_missing_tensor", "st_wrong_shape", "st_unknown_dtype"):
        header, data = _split_safetensors(st)
        t = _tensor_like(header, "layers.0.self_attn.k_proj.weight")
        if name == "st_missing_tensor":
            header, data = _drop_tensor(header, data, t)
            keywords = ("missing", "not found", "no tensor")
        elif name == "st_wrong_shape":
            header[t]["shape"] = list(reversed(header[t]["shape"]))
            keywords = ("shape", "dimension", "dims")
        else:
            header[t]["dtype"] = "X16"  # not a safetensors dtype; same element size as BF16
            keywords = ("dtype", "type")
        _replace(st, _join_safetensors(header, data))
        return d, keywords
    if name == "config_missing":
        (d / "config.json").unlink()
        return d, ("config",)
    if name == "config_invalid_json":
        _replace(d / "config.json", '{"model_type": "qwen3", "hidden_size": ')
        return d, ("json", "config")
    if name == "config_unknown_architecture":
        cfg = json.loads((d / "config.json").read_text())
        cfg["model_type"], cfg["architectures"] = "mamba", ["MambaForCausalLM"]
        _replace(d / "config.json", json.dumps(cfg))
        return d, ("architecture", "model_type", "mamba")
    if name in ("mlx_bits_3", "mlx_group_16"):
        cfg = json.loads((d / "config.json").read_text())
        key, value = ("bits", 3) if name == "mlx_bits_3" else ("group_size", 16)
        for q in ("quantization", "quantization_config"):
            if q in cfg:
                cfg[q][key] = value
        _replace(d / "config.json", json.dumps(cfg))
        return d, ("bits",) if key == "bits" else ("group",)
    if name == "sharded_missing_shard":
        header, _ = _split_safetensors(st)
        names = sorted(k for k in header if k != "__metadata__")
        shard1, shard2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
        os.rename(st, d / shard1)
        weight_map = {k: shard1 for k in names}
        weight_map[_tensor_like(header, "layers.1.mlp.down_proj.weight")] = shard2  # does not exist
        (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
        return d, ("missing", "not found", "no such", "shard", "open", "00002")
    raise AssertionError(name)


DIR_CASES = ["st_truncated", "st_truncated_in_header", "st_bad_header_json", "st_header_length_past_eof",
             "st_missing_tensor", "st_wrong_shape", "st_unknown_dtype", "config_missing", "config_invalid_json",
             "config_unknown_architecture", "mlx_bits_3", "mlx_group_16", "sharded_missing_shard"]


@pytest.mark.parametrize("case", DIR_CASES)
def test_malformed_model_dir(case, good_st, good_mlx, sluice, tmp_path):
    bad, keywords = _dir_case(case, good_st, good_mlx, tmp_path)
    check_clean_error(_run_bad(sluice, bad), keywords, f"dir {case}")


@pytest.mark.parametrize("case", ["invalid_json", "missing"])
def test_malformed_tokenizer_json(case, good_st, sluice, tmp_path):
    """Vocabulary-level problems in a model directory: `sluice tokenize` and `sluice run` fail cleanly."""
    d = _linked_copy(good_st, tmp_path / case)
    if case == "missing":
        (d / "tokenizer.json").unlink()
        keywords = ("tokenizer",)
    else:
        _replace(d / "tokenizer.json", '{"model": {"type": "BPE", "vocab": {"a": 0')
        keywords = ("json", "tokenizer")
    check_clean_error(_tokenize_bad(sluice, d), keywords, f"tokenize, tokenizer.json {case}")
    check_clean_error(_run_bad(sluice, d), keywords, f"run, tokenizer.json {case}")


def test_nonexistent_model_path(sluice, tmp_path):
    check_clean_error(_run_bad(sluice, tmp_path / "no-such-model.gguf"),
                      ("no such", "not found", "exist", "open"), "nonexistent path")
