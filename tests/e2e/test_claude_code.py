"""A real agent against sluice: the Claude Code CLI bundled in the PyPI package claude-agent-sdk,
pointed at the server with ANTHROPIC_BASE_URL, runs a non-interactive prompt (-p) to completion.
SmolLM2 (8k context) answers, so the session uses a short system prompt and two built-in tools:
their definitions still go through /v1/messages with Claude Code's own requests.
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


def test_claude_code_runs_a_prompt_to_completion(sluice_bin, tmp_path):
    claude = claude_binary()
    if claude is None:
        pytest.fail("claude-agent-sdk with its bundled CLI is required (requirements.txt)")
    with SluiceServer(sluice_bin) as s:
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
        # Claude Code samples at its own temperature: now and then SmolLM2 rambles for thousands of
        # tokens and the second turn no longer fits its 8k context (Claude Code then reports
        # "prompt_too_long", a model outcome, not a server fault). One more run in that case.
        for _attempt in range(2):
            r = subprocess.run([str(claude), "-p", "Say hello in one short sentence.", "--output-format",
                                "json", "--max-turns", "2", "--system-prompt", "You are a concise assistant.",
                                "--tools", "Read,Glob"],
                               cwd=work, env=env, capture_output=True, text=True, timeout=900)
            if '"terminal_reason":"prompt_too_long"' not in r.stdout.replace(" ", ""):
                break
        log = "".join(s.stderr_lines)
        assert r.returncode == 0, f"claude exited {r.returncode}\nstdout: {r.stdout[-3000:]}\n" \
                                  f"stderr: {r.stderr[-3000:]}\nserver: {log[-3000:]}"
        result = json.loads(r.stdout)
        assert result.get("type") == "result", result
        assert not result.get("is_error"), result
