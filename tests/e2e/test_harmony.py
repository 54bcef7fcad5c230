"""gpt-oss "harmony" serving.

- Wiring (always runs): the default model served with the gpt-oss chat template. Its vocabulary
  has no harmony tokens, so what it writes is noise; the test checks what the API does around it:
  reasoning_effort / chat_template_kwargs / Anthropic output_config.effort accepted, bad values
  400s naming the field, and reasoning_content present (harmony parses channels without tools).
- A real gpt-oss GGUF (skipped when absent): set SLUICE_GPT_OSS_GGUF, or put models/gpt-oss*.gguf.
  check_harmony_split() streams a tool-calling turn and a plain answer through the OpenAI and
  Anthropic clients and checks the split: reasoning apart, a get_weather call with JSON
  arguments, a final answer, and no harmony markup anywhere.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import anthropic
import openai
import pytest

from e2e_util import REPO
from server_util import SluiceServer

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Gets the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
MARKUP = ("<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|call|>", "<|return|>",
          "<|constrain|>")


def gpt_oss_gguf() -> Path | None:
    if os.environ.get("SLUICE_GPT_OSS_GGUF"):
        return Path(os.environ["SLUICE_GPT_OSS_GGUF"])
    found = sorted((REPO / "models").glob("gpt-oss*.gguf"))
    return found[0] if found else None


def no_markup(text: str, what: str) -> None:
    for m in MARKUP:
        assert m not in text, f"{what} holds harmony markup {m}: {text!r}"


def check_harmony_split(sluice_bin, gguf, *serve_args: str) -> dict:
    """Serves `gguf` and checks the streamed reasoning / tool-call / answer split on both APIs.
    Returns what it saw (for the caller to record)."""
    seen = {}
    with SluiceServer(sluice_bin, "-m", str(gguf), *serve_args, ready_timeout=600) as s:
        oa = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=600)
        ask = [{"role": "user", "content": "What is the weather in Paris right now?"}]
        reasoning, content, calls, finish = "", "", {}, None
        for chunk in oa.chat.completions.create(model="m", messages=ask, tools=[WEATHER],
                                                stream=True, max_tokens=1024, temperature=0,
                                                reasoning_effort="low"):
            d = chunk.choices[0].delta
            reasoning += getattr(d, "reasoning_content", None) or ""
            content += d.content or ""
            for tc in d.tool_calls or []:
                c = calls.setdefault(tc.index, {"name": "", "arguments": ""})
                c["name"] += tc.function.name or ""
                c["arguments"] += tc.function.arguments or ""
            finish = chunk.choices[0].finish_reason or finish
        no_markup(reasoning + content + json.dumps(calls), "the tool-call turn")
        assert reasoning.strip(), "no reasoning before the call"
        assert finish == "tool_calls" and len(calls) == 1, (finish, calls, content)
        assert calls[0]["name"] == "get_weather"
        assert "paris" in json.loads(calls[0]["arguments"])["city"].lower()
        seen["openai_call"] = calls[0]

        r = oa.chat.completions.create(model="m", max_tokens=1024, temperature=0,
                                       messages=[{"role": "user", "content": "What is 17 + 25?"}])
        m = r.choices[0].message
        no_markup((m.content or "") + (getattr(m, "reasoning_content", "") or ""), "the answer")
        assert "42" in (m.content or ""), m
        assert (getattr(m, "reasoning_content", "") or "").strip()
        seen["openai_answer"] = m.content

        an = anthropic.Anthropic(base_url=s.base_url, api_key="x", max_retries=0, timeout=600)
        kinds, thinking, text = [], "", ""
        with an.messages.stream(model="m", max_tokens=1024, temperature=0,
                                messages=[{"role": "user", "content": "Say hello in French."}]) as st:
            for ev in st:
                if ev.type == "content_block_start":
                    kinds.append(ev.content_block.type)
                elif ev.type == "content_block_delta" and ev.delta.type == "thinking_delta":
                    thinking += ev.delta.thinking
                elif ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                    text += ev.delta.text
        no_markup(thinking + text, "the Anthropic stream")
        assert kinds[0] == "thinking" and "text" in kinds, kinds
        assert text.strip()
        seen["anthropic_blocks"] = kinds
    return seen


@pytest.mark.skipif(gpt_oss_gguf() is None or not gpt_oss_gguf().is_file(),
                    reason="no gpt-oss GGUF (SLUICE_GPT_OSS_GGUF or models/gpt-oss*.gguf)")
def test_real_gpt_oss_split(sluice_bin, record):
    seen = check_harmony_split(sluice_bin, gpt_oss_gguf())
    record(f"gpt-oss harmony split: {seen}")


# ---------------------------------------------------------------- wiring on the default model


GOLDENS = REPO / "tests" / "reference" / "harmony" / "goldens" / "harmony.jsonl"


@pytest.fixture(scope="module")
def server(sluice_bin, testdata):
    template = testdata / "templates" / "openai-gpt-oss-120b.jinja"
    old = os.environ.get("SLUICE_FIXED_DATE")
    os.environ["SLUICE_FIXED_DATE"] = "2025-06-15"  # the goldens' date
    try:
        with SluiceServer(sluice_bin, "--chat-template", str(template)) as s:
            yield s
    finally:
        if old is None:
            del os.environ["SLUICE_FIXED_DATE"]
        else:
            os.environ["SLUICE_FIXED_DATE"] = old


@pytest.mark.parametrize("name", ["system_and_user", "multi_turn_reasoning", "unicode",
                                  "later_system_message", "user_only_high"])
def test_served_prompt_is_harmony(server, name):
    """/tokenize renders through the server's path; /detokenize gives the text back (the default
    model's vocabulary spells the harmony markers out)."""
    g = next(json.loads(line) for line in GOLDENS.open(encoding="utf-8")
             if json.loads(line)["name"] == name)
    body = {"messages": g["messages"], "chat_template_kwargs": g["kwargs"]}
    status, out = server.post("/tokenize", body)
    assert status == 200, out
    status, text = server.post("/detokenize", {"tokens": out["tokens"]})
    assert status == 200 and text["prompt"] == g["expected"], text


def chat_body(**kw):
    return {"model": "m", "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": "Hi"}], **kw}


@pytest.mark.parametrize("extra", [{}, {"reasoning_effort": "high"},
                                   {"chat_template_kwargs": {"reasoning_effort": "low"}},
                                   {"tools": [WEATHER]}])
def test_accepted_and_reasoning_field_present(server, extra):
    status, out = server.post("/v1/chat/completions", chat_body(**extra))
    assert status == 200, out
    assert "reasoning_content" in out["choices"][0]["message"], out


@pytest.mark.parametrize("extra,param", [
    ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"chat_template_kwargs": {"reasoning_effort": "max"}}, "chat_template_kwargs"),
    ({"chat_template_kwargs": {"builtin_tools": ["python"]}}, "chat_template_kwargs"),
])
def test_bad_effort_is_400(server, extra, param):
    status, out = server.post("/v1/chat/completions", chat_body(**extra))
    assert status == 400 and out["error"]["param"] == param, out


def test_anthropic_prefill(server):
    body = {"model": "m", "max_tokens": 4, "messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Bonjour"}]}
    status, out = server.post("/v1/messages", body)
    assert status == 200, out


def test_anthropic_effort(server):
    body = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}],
            "output_config": {"effort": "max"}}
    status, out = server.post("/v1/messages", body)
    assert status == 200, out
    status, out = server.post("/v1/messages", {**body, "output_config": {"effort": "huge"}})
    assert status == 400 and "output_config.effort" in out["error"]["message"], out


# ---------------------------------------------------------------- a gpt-oss with its vocabulary


@pytest.fixture(scope="module")
def tiny_gpt_oss(sluice_bin, venv_python, tmp_path_factory):
    """A random-weight tiny gpt-oss with the real o200k_harmony vocabulary (built by
    tests/reference/gpt_oss_vocab.py, as the tokenizer test does) and the gpt-oss template."""
    import subprocess

    vocab = REPO / "build" / "testdata" / "gpt-oss-vocab.gguf"
    tiktoken = REPO / "build" / "testdata" / "tiktoken" / "o200k_base.tiktoken"
    if not tiktoken.is_file():
        pytest.skip("build/testdata/tiktoken/o200k_base.tiktoken missing (scripts/setup_testdata)")
    script = REPO / "tests" / "reference" / "gpt_oss_vocab.py"
    if not vocab.is_file() or vocab.stat().st_mtime < script.stat().st_mtime:
        r = subprocess.run([venv_python, str(script), str(vocab), "--tiktoken", str(tiktoken)],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    model = tmp_path_factory.mktemp("gpt-oss") / "tiny-q8_0.gguf"
    r = subprocess.run([str(sluice_bin), "make-model", "--arch", "gpt-oss", "--preset", "tiny",
                        "--format", "gguf-q8_0", "--tokenizer", str(vocab), "-o", str(model)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    with SluiceServer(sluice_bin, "-m", str(model)) as s:
        yield s


@pytest.mark.parametrize("choice", ["required", {"type": "function",
                                                 "function": {"name": "get_weather"}}])
def test_forced_call_parses_into_tool_calls(tiny_gpt_oss, choice):
    """The forced-call grammar writes harmony's call syntax with the model's own tokens; the
    parser turns it into an OpenAI tool call (streamed and not) with JSON arguments."""
    oa = openai.OpenAI(base_url=tiny_gpt_oss.base_url + "/v1", api_key="x", max_retries=0)
    kw = dict(model="m", messages=[{"role": "user", "content": "Weather in Paris?"}],
              tools=[WEATHER], tool_choice=choice, max_tokens=400, temperature=0)
    r = oa.chat.completions.create(**kw)
    m = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls", r
    assert [c.function.name for c in m.tool_calls] == ["get_weather"], m
    assert "city" in json.loads(m.tool_calls[0].function.arguments)
    no_markup((m.content or "") + (getattr(m, "reasoning_content", "") or ""), "the message")
    name, args = "", ""
    for chunk in oa.chat.completions.create(stream=True, **kw):
        for tc in chunk.choices[0].delta.tool_calls or []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
    assert name == "get_weather" and args == m.tool_calls[0].function.arguments


def test_forced_call_anthropic_tool_use(tiny_gpt_oss):
    an = anthropic.Anthropic(base_url=tiny_gpt_oss.base_url, api_key="x", max_retries=0)
    tool = {"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}
    # temperature through extra_body: greedy, so the optional analysis ends as in the OpenAI test
    r = an.messages.create(model="m", max_tokens=400, tools=[tool], extra_body={"temperature": 0},
                           tool_choice={"type": "any"},
                           messages=[{"role": "user", "content": "Weather in Paris?"}])
    uses = [b for b in r.content if b.type == "tool_use"]
    assert r.stop_reason == "tool_use" and [u.name for u in uses] == ["get_weather"], r
    assert "city" in uses[0].input
