"""Qwen3-VL's language model (GGUF `qwen3vl`, `qwen3vlmoe`) on text, against llama.cpp.

Files written by llama.cpp's own `gguf` package (tests/reference/gguf_py_random_model.py: Qwen3's
and Qwen3 MoE's tensors, interleaved M-RoPE sections, 3 deepstack layers) give the same last
logits as llama.cpp (llama_logits.py) within rel L2 1e-2, and the same argmax. Images and
deepstack: test_qwen3vl_deepstack.py. The chat template renders as jinja2 renders it.
"""
from __future__ import annotations

import json

import pytest

from e2e_util import REPO, THREADS, check_ok, read_f32, rel_l2

TOL = 1e-2
TEMPLATE = REPO / "tests" / "data" / "templates" / "qwen3vl_test.jinja"


@pytest.mark.parametrize("arch", ["qwen3vl", "qwen3vlmoe"])
def test_text_logits_gguf_py_vs_llama_cpp(arch, gguf_py_model, prompt_ids, sluice, reference,
                                          record, tmp_path):
    model = gguf_py_model(arch)
    ids = " ".join(str(i) for i in prompt_ids("qwen3"))
    check_ok(sluice("logits", "-m", model, "--tokens", ids, "-o", tmp_path / "s.f32",
                    "--threads", THREADS), "sluice logits")
    reference("llama_logits.py", model, "--tokens", ids, "-o", tmp_path / "r.f32",
              "--threads", THREADS)
    ours, peer = read_f32(tmp_path / "s.f32"), read_f32(tmp_path / "r.f32")
    e = rel_l2(ours, peer)
    record(f"{arch} gguf-py f16 text: rel-L2 vs llama.cpp {e:.2e}")
    assert e <= TOL and ours.argmax() == peer.argmax(), (e, ours.argmax(), peer.argmax())


def test_chat_template_renders_as_jinja2(sluice, tmp_path):
    import jinja2

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]},
                {"role": "assistant", "content": "A cat."},
                {"role": "user", "content": "And the second?"}]
    (tmp_path / "m.json").write_text(json.dumps(messages))
    got = check_ok(sluice("template", "-m", TEMPLATE, "--messages", tmp_path / "m.json",
                          "--add-generation-prompt"), "sluice template").stdout
    want = jinja2.Environment().from_string(TEMPLATE.read_text()).render(
        messages=messages, add_generation_prompt=True)
    assert got == want
    assert got.startswith("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What?")
