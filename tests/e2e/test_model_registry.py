"""Several models in one server (`--model NAME=PATH`, `--models-dir`): each request names its
model, which loads on first use; outputs equal a one-model server's; idle models unload (RSS
measured) and reload; unknown and broken models get clear errors without disturbing the others;
a streamed request sees its model's load as SSE comments; /metrics labels by model."""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import anthropic
import openai
import pytest

from e2e_util import REPO
from server_util import SluiceServer

SMOL = REPO / "models" / "default.gguf"
GEMMA = REPO / "models" / "gemma3-270m-q4_k_m.gguf"
PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time", "1, 2, 3, 4,"]


@pytest.fixture(scope="module", autouse=True)
def models_present():
    for p in (SMOL, GEMMA):
        if not p.exists():
            pytest.fail(f"{p} missing (run scripts/setup)", pytrace=False)


def complete(base: str, model: str, prompt: str, n: int = 12) -> str:
    c = openai.OpenAI(base_url=base + "/v1", api_key="x")
    r = c.completions.create(model=model, prompt=prompt, max_tokens=n, temperature=0)
    return r.choices[0].text


def models(server: SluiceServer) -> dict[str, dict]:
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=10) as r:
        return {m["id"]: m for m in json.load(r)["data"]}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def wait_state(server: SluiceServer, model: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while models(server)[model]["state"] != state:
        assert time.monotonic() < deadline, f"{model} never became {state}: {models(server)}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def alone(sluice_bin) -> dict[str, list[str]]:
    """Each model's greedy completions from a server that serves only it."""
    out = {}
    for name, path in (("smol", SMOL), ("gemma", GEMMA)):
        with SluiceServer(sluice_bin, "-m", str(path), "--kv-cache-memory", "64MiB") as s:
            out[name] = [complete(s.base_url, "anything", p) for p in PROMPTS]
    return out


def test_two_models_interleaved_and_concurrent_equal_one_model_servers(sluice_bin, alone):
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"gemma={GEMMA}",
                      "--kv-cache-memory", "64MiB") as s:
        listed = models(s)
        assert set(listed) == {"smol", "gemma"}
        assert all(m["state"] == "unloaded" for m in listed.values()), listed  # lazy
        # Interleaved, one at a time: each request loads or reuses its model.
        for i, p in enumerate(PROMPTS):
            assert complete(s.base_url, "smol", p) == alone["smol"][i]
            assert complete(s.base_url, "gemma", p) == alone["gemma"][i]
        assert {m["state"] for m in models(s).values()} == {"loaded"}
        # Concurrent: both engines at once.
        jobs = [(m, i) for i in range(len(PROMPTS)) for m in ("smol", "gemma")] * 2
        with cf.ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda j: complete(s.base_url, j[0], PROMPTS[j[1]]), jobs))
        for (m, i), text in zip(jobs, got):
            assert text == alone[m][i], (m, PROMPTS[i])
        # The Anthropic client names its model the same way.
        a = anthropic.Anthropic(base_url=s.base_url, api_key="x")
        msg = a.messages.create(model="smol", max_tokens=4,
                                messages=[{"role": "user", "content": "Hi"}])
        assert msg.model == "smol"
        # /metrics: every series labelled by model.
        m = s.metrics()
        assert m['sluice_model_loaded{model="smol"}'] == 1
        assert m['sluice_model_loaded{model="gemma"}'] == 1
        assert m['sluice_generation_tokens_total{model="smol"}'] >= 12 * len(PROMPTS)
        assert 'sluice_kv_cache_blocks_total{model="gemma"}' in m


def test_unknown_model_is_a_404_in_each_protocols_shape(sluice_bin):
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"gemma={GEMMA}") as s:
        status, body = s.post("/v1/chat/completions",
                              {"model": "nope", "messages": [{"role": "user", "content": "x"}]})
        assert status == 404
        assert body["error"]["code"] == "model_not_found"
        assert "'smol', 'gemma'" in body["error"]["message"]
        status, body = s.post("/v1/messages", {"model": "nope", "max_tokens": 4,
                                               "messages": [{"role": "user", "content": "x"}]})
        assert status == 404 and body["type"] == "error", body
        assert body["error"]["type"] == "not_found_error"
        with pytest.raises(openai.NotFoundError):
            openai.OpenAI(base_url=s.base_url + "/v1", api_key="x").models.retrieve("nope")
        # Nothing was loaded for them.
        assert {m["state"] for m in models(s).values()} == {"unloaded"}


def test_broken_model_fails_clearly_and_the_others_keep_serving(sluice_bin, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + os.urandom(64))
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"broken={broken}") as s:
        for stream in (False, True):
            status, body = s.post("/v1/chat/completions",
                                  {"model": "broken", "stream": stream,
                                   "messages": [{"role": "user", "content": "x"}]})
            assert status == 503, body
            assert "failed to load" in body["error"]["message"]
            assert str(broken) in body["error"]["message"], body
        card = models(s)["broken"]
        assert card["state"] == "failed" and str(broken) in card["error"]
        assert complete(s.base_url, "smol", "Hello")  # undisturbed
        assert s.alive()


def test_idle_unload_frees_memory_and_the_next_request_reloads(sluice_bin):
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"gemma={GEMMA}",
                      "--idle-unload", "2", "--kv-cache-memory", "64MiB") as s:
        pid = s.proc.pid
        base = rss_kib(pid)
        first = complete(s.base_url, "gemma", PROMPTS[0])
        loaded = rss_kib(pid)
        assert loaded - base > 100_000, (base, loaded)  # the 270M model's weights (~250 MB)
        wait_state(s, "gemma", "unloaded", timeout=30)
        time.sleep(0.5)
        freed = rss_kib(pid)
        assert loaded - freed > 0.8 * (loaded - base), (base, loaded, freed)
        assert complete(s.base_url, "gemma", PROMPTS[0]) == first  # reloaded, same output
        assert models(s)["gemma"]["state"] == "loaded"


def test_load_and_unload_endpoints_and_max_loaded(sluice_bin):
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"gemma={GEMMA}",
                      "--max-loaded-models", "1", "--kv-cache-memory", "64MiB") as s:
        status, card = s.post("/v1/models/gemma/load", {})
        assert status == 200 and card["state"] == "loaded", card
        complete(s.base_url, "smol", "Hi")  # evicts gemma (the only other, idle)
        states = {k: v["state"] for k, v in models(s).items()}
        assert states == {"smol": "loaded", "gemma": "unloaded"}, states
        status, card = s.post("/v1/models/smol/unload", {})
        assert status == 200 and card["state"] == "unloaded"
        status, body = s.post("/v1/models/nope/load", {})
        assert status == 404 and body["error"]["code"] == "model_not_found"


def test_a_streamed_request_sees_its_model_load(sluice_bin):
    with SluiceServer(sluice_bin, "-m", f"smol={SMOL}", "-m", f"gemma={GEMMA}") as s:
        req = urllib.request.Request(
            s.base_url + "/v1/completions", method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"model": "gemma", "stream": True, "max_tokens": 4,
                             "prompt": "Hi"}).encode())
        with urllib.request.urlopen(req, timeout=120) as r:
            assert r.status == 200
            text = r.read().decode()
        assert text.startswith(": loading model 'gemma'"), text[:200]
        assert "data: [DONE]" in text
        # The official client ignores the comments.
        c = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x")
        s.post("/v1/models/smol/unload", {})
        chunks = list(c.chat.completions.create(model="smol", stream=True, max_tokens=4,
                                                messages=[{"role": "user", "content": "Hi"}]))
        assert chunks and chunks[0].model == "smol"


def test_models_dir_names_files_and_folders_and_attaches_mmproj(sluice_bin, tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    (d / "smol.gguf").symlink_to(SMOL)
    (d / "gemma-folder").mkdir()
    (d / "gemma-folder" / "model-q4.gguf").symlink_to(GEMMA)
    (d / "notes.txt").write_text("not a model")
    # A projector beside a model is attached to it, not listed as a model.
    shutil.copy(SMOL, d / "mmproj-smol.gguf")
    with SluiceServer(sluice_bin, "--models-dir", str(d)) as s:
        assert set(models(s)) == {"smol", "gemma-folder"}
        assert complete(s.base_url, "gemma-folder", "Hello", 3)
        # smol's "projector" is no projector: its load fails and says so.
        status, body = s.post("/v1/completions", {"model": "smol", "prompt": "x"})
        assert status == 503 and "mmproj-smol.gguf" in body["error"]["message"], body
