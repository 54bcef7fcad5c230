"""`sluice run --prompts FILE --concurrency N`: the engine through the CLI on the real SmolLM2.

Greedy outputs must not depend on how many requests share the engine (batch invariance), a shared
prefix must come from the prefix cache, and a KV pool far too small for the load must still
finish every request with the same text (preemption + recompute).
"""
from __future__ import annotations

import json

import pytest

from e2e_util import check_ok

PROMPTS = [
    "The capital of France is",
    "Write a short poem about the sea.",
    "1, 2, 3, 4, 5,",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
    "The three primary colors are",
]


def run_prompts(sluice, smollm2_path, tmp_path, *extra):
    f = tmp_path / "prompts.txt"
    f.write_text("\n".join(PROMPTS) + "\n")
    r = check_ok(sluice("run", "-m", smollm2_path, "--prompts", f, "-n", "24", "--temp", "0", *extra),
                 "sluice run --prompts")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["index"] for row in rows] == list(range(len(PROMPTS)))
    return rows


@pytest.fixture(scope="module")
def serial(sluice, smollm2_path, tmp_path_factory):
    return run_prompts(sluice, smollm2_path, tmp_path_factory.mktemp("serial"), "--concurrency", "1")


def test_concurrent_equals_serial(serial, sluice, smollm2_path, tmp_path):
    rows = run_prompts(sluice, smollm2_path, tmp_path, "--concurrency", "6", "--deterministic")
    assert [r["text"] for r in rows] == [r["text"] for r in serial]
    assert all(r["output_tokens"] >= 1 for r in rows)


def test_chunked_prefill_equals_whole(serial, sluice, smollm2_path, tmp_path):
    rows = run_prompts(sluice, smollm2_path, tmp_path, "--concurrency", "6", "--max-num-batched-tokens", "3")
    assert [r["text"] for r in rows] == [r["text"] for r in serial]


def test_tiny_kv_pool_preempts_and_completes(serial, sluice, smollm2_path, tmp_path):
    # SmolLM2: 30 layers x 3 KV heads x 64 dims x 2 x 2 bytes (f16) x 16 tokens = 368,640 bytes per
    # block: 10 blocks for 6 sequences.
    rows = run_prompts(sluice, smollm2_path, tmp_path, "--concurrency", "6", "--kv-cache-memory", "4000000")
    assert [r["text"] for r in rows] == [r["text"] for r in serial]
    assert sum(r["preemptions"] for r in rows) > 0


def test_shared_prefix_is_served_from_cache(sluice, smollm2_path, tmp_path):
    prefix = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
    f = tmp_path / "p.txt"
    f.write_text(f"{prefix} First?\n{prefix} Second?\n")
    r = check_ok(sluice("run", "-m", smollm2_path, "--prompts", f, "-n", "2", "--temp", "0"), "run")
    first, second = [json.loads(line) for line in r.stdout.splitlines()]
    assert first["cached_tokens"] == 0
    assert second["cached_tokens"] >= (second["prompt_tokens"] - 20) // 16 * 16
    assert second["computed_tokens"] == second["prompt_tokens"] - second["cached_tokens"] + 1


def test_bad_engine_flags_fail_cleanly(sluice, smollm2_path):
    r = sluice("run", "-m", smollm2_path, "-p", "hi", "--kv-cache-memory", "lots")
    assert r.returncode != 0 and "kv-cache-memory" in r.stderr
    r = sluice("run", "-m", smollm2_path, "-p", "hi", "--kv-cache-memory", "100")
    assert r.returncode != 0 and "KV blocks" in r.stderr


def test_device_flags(serial, sluice, smollm2_path, tmp_path):
    """--device: cuda without a GPU (or without a CUDA build) fails with a clear message, auto falls
    back to the CPU with the same greedy text, and bad values are refused."""
    r = sluice("run", "-m", smollm2_path, "-p", "hi", "-n", "2", "--device", "cuda")
    no_gpu = r.returncode != 0
    if no_gpu:
        assert "CUDA" in r.stderr, r.stderr
    r = sluice("run", "-m", smollm2_path, "-p", "hi", "--device", "tpu")
    assert r.returncode != 0 and "--device" in r.stderr
    r = sluice("run", "-m", smollm2_path, "-p", "hi", "--gpu-memory-utilization", "1.5")
    assert r.returncode != 0 and "gpu-memory-utilization" in r.stderr
    if no_gpu:
        auto = run_prompts(sluice, smollm2_path, tmp_path, "--concurrency", "6", "--device", "auto")
        assert [row["text"] for row in auto] == [row["text"] for row in serial]
