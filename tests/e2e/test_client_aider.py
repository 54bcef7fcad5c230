"""aider (PyPI aider-chat, in its own venv .venv-clients/aider made by scripts/setup_clients)
scripted against `sluice serve` through litellm's OpenAI provider (model `openai/<id>`,
OPENAI_API_BASE at the server): one non-interactive `--message` that edits a file.

SmolLM2-135M does not follow aider's edit formats by itself (docs/CLIENTS.md: it loops, echoes
the file or apologises), so the run is made as easy as a copy: the whole-file format, greedy
decoding, the new file's text given in the message, and frequency_penalty 1.0 (through aider's
model settings) so that the reply ends after one file listing instead of repeating it.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest

from e2e_util import REPO
from server_util import SluiceServer

AIDER = REPO / ".venv-clients" / "aider" / "bin" / "aider"
# SmolLM2 names the file "Hello.py" whatever it is called; so the file is called that.
FILE = "Hello.py"
BEFORE = 'def greet(name):\n    return "Hello " + name\n'
AFTER = 'def greet(name):\n    return "Goodbye " + name\n'
MESSAGE = f'Replace "Hello " with "Goodbye " in {FILE}. The new {FILE} is:\n{AFTER.rstrip()}'


def test_aider_edits_a_file_through_chat_completions(sluice_bin, tmp_path, record):
    if not AIDER.exists():
        pytest.fail(f"aider is not installed at {AIDER} (run scripts/setup_clients)", pytrace=False)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / FILE).write_text(BEFORE)
    with SluiceServer(sluice_bin) as s:
        with urllib.request.urlopen(s.base_url + "/v1/models", timeout=10) as r:
            model = "openai/" + json.loads(r.read())["data"][0]["id"]
        settings = tmp_path / "model-settings.yml"
        settings.write_text(json.dumps([{  # JSON is YAML
            "name": model, "edit_format": "whole", "use_temperature": 0,
            "extra_params": {"max_tokens": 200, "frequency_penalty": 1.0}}]))
        metadata = tmp_path / "model-metadata.json"  # the context size, so aider needs no lookup
        metadata.write_text(json.dumps({model: {
            "max_input_tokens": 8192, "max_output_tokens": 200, "litellm_provider": "openai",
            "mode": "chat", "input_cost_per_token": 0, "output_cost_per_token": 0}}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIDER_"))}
        env.update({"HOME": str(home), "OPENAI_API_BASE": s.base_url + "/v1",
                    "OPENAI_API_KEY": "sk-local", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "BROWSER": "true"})  # --yes-always would open help pages in a browser
        start = time.monotonic()
        r = subprocess.run(
            [str(AIDER), "--model", model, "--model-settings-file", str(settings),
             "--model-metadata-file", str(metadata), "--yes-always", "--no-git",
             "--no-auto-commits", "--no-check-update", "--analytics-disable",
             "--no-show-model-warnings", "--no-pretty", "--no-fancy-input", "--message", MESSAGE,
             FILE], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - start
        served = s.requests_total()
        log = "".join(s.stderr_lines)
    context = f"aider exited {r.returncode}\nstdout: {r.stdout[-4000:]}\nstderr: " \
              f"{r.stderr[-3000:]}\nserver: {log[-2000:]}"
    assert r.returncode == 0, context
    assert f"Model: {model} with whole edit format" in r.stdout, context
    chats = {status: n for (route, status), n in served.items() if route == "/v1/chat/completions"}
    assert chats == {"200": 1}, (chats, context)
    # The reply as aider kept it: the streamed deltas, put together.
    history = (work / ".aider.chat.history.md").read_text()
    reply = history.split("#### ", 1)[1].split("\n", 1)[1].strip()
    assert reply, context
    record(f"aider: {seconds:.0f} s, reply {len(reply)} chars")
    assert f"Applied edit to {FILE}" in r.stdout, context
    assert (work / FILE).read_text() == AFTER, context
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith(".")) == [FILE]
