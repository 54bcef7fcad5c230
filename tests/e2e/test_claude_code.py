"""A real agent against sluice: the Claude Code CLI bundled in the PyPI package claude-agent-sdk,
pointed at the server with ANTHROPIC_BASE_URL, runs a non-interactive prompt (-p) to completion.
Its system prompt and tool definitions (tens of thousands of tokens) go through the Anthropic
route; a tiny synthetic model with a long context answers, so only the protocol is under test.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from server_util import SluiceServer


def claude_binary() -> Path | None:
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    path = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return path if path.exists() else None


def test_claude_code_runs_a_prompt_to_completion(sluice_bin, make_model, testdata, tmp_path):
    claude = claude_binary()
    if claude is None:
        pytest.fail("claude-agent-sdk with its bundled CLI is required (requirements.txt)")
    model = make_model("qwen3", "gguf-q8_0")
    tpl = testdata / "templates" / "Qwen-Qwen3-0.6B.jinja"
    with SluiceServer(sluice_bin, "-m", str(model), "--chat-template", str(tpl),
                      "--max-model-len", "65536") as s:
        home = tmp_path / "home"
        work = tmp_path / "work"
        home.mkdir()
        work.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        env.update({
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": s.base_url,
            "ANTHROPIC_API_KEY": "sk-local",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
        })
        r = subprocess.run([str(claude), "-p", "List the files in this directory.", "--output-format", "json",
                            "--max-turns", "2"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=900)
        log = "".join(s.stderr_lines)
        assert r.returncode == 0, f"claude exited {r.returncode}\nstdout: {r.stdout[-3000:]}\n" \
                                  f"stderr: {r.stderr[-3000:]}\nserver: {log[-3000:]}"
        result = json.loads(r.stdout)
        assert result.get("type") == "result", result
        assert not result.get("is_error"), result
