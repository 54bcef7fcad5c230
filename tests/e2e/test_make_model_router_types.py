"""make-model's GGUF writer keeps each MoE router (`ffn_gate_inp`) and norm in F32 in every GGUF
format, as llama.cpp's converter does (convert_hf_to_gguf.py forces FFN_GATE_INP to F32), while
the other matrices take the format's type."""
from __future__ import annotations

import sys

import pytest

from e2e_util import REFERENCE_DIR

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite  # noqa: E402

GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8


@pytest.mark.parametrize("arch", ["qwen3moe", "gpt-oss", "qwen35moe", "qwen3vlmoe"])
@pytest.mark.parametrize("fmt,matrix_type", [("gguf-f16", GGML_F16), ("gguf-q8_0", GGML_Q8_0)])
def test_routers_and_norms_stay_f32(arch, fmt, matrix_type, make_model):
    tensors = GgufLite(str(make_model(arch, fmt))).tensors
    routers = [t for name, t in tensors.items() if name.endswith("ffn_gate_inp.weight")]
    norms = [t for name, t in tensors.items() if name.endswith("norm.weight")]
    assert routers and norms
    assert {t.type for t in routers} == {GGML_F32}, [(t.name, t.type) for t in routers]
    assert {t.type for t in norms} == {GGML_F32}
    assert tensors["blk.0.ffn_up_exps.weight"].type == matrix_type  # the experts: the format's
