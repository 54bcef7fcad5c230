"""Structured output, tool calling and reasoning through the official `openai` and `anthropic`
clients: JSON-schema outputs are complete and validate (a corpus of schemas, 16 concurrent with free
requests in the same batches; on a random-weight model too, where the budget rule has to finish the
documents within max_tokens), tool calls round-trip in every tool_choice mode of both protocols, streamed tool
calls equal non-streamed ones, and a reasoning budget ends the thinking section.

SmolLM2 (whose template knows no tools: the generic JSON call format) and synthetic Qwen3 models
with real chat templates (Hermes-style <tool_call> calls; DeepSeek-R1's template that opens <think>).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
import jsonschema
import openai
import pytest

from e2e_util import FULL
from server_util import SluiceServer

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((REPO / "tests/data/json_schemas").glob("*.json"))
UNSUPPORTED = sorted((REPO / "tests/data/json_schemas/unsupported").glob("*.json"))

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40},
                       "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Current time in a timezone",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string", "maxLength": 30}},
                   "required": ["tz"]},
}
OPENAI_TOOLS = [{"type": "function", "function": f} for f in (WEATHER, TIME)]
ANTHROPIC_TOOLS = [{"name": f["name"], "description": f["description"], "input_schema": f["parameters"]}
                   for f in (WEATHER, TIME)]
ASK = [{"role": "user", "content": "What is the weather in Paris, and what time is it in Tokyo?"}]


GREEDY = {"temperature": 0}


def reasoning_of(message) -> str:
    return (message.model_extra or {}).get("reasoning_content") or ""


def schema_of(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def server(sluice_bin):
    with SluiceServer(sluice_bin) as s:
        yield s


@pytest.fixture(scope="module")
def oai(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0, timeout=600)


@pytest.fixture(scope="module")
def ant(server):
    return anthropic.Anthropic(base_url=server.base_url, api_key="x", max_retries=0, timeout=600)


def stream_message(oai, **kw):
    """Streams a chat completion; returns (content, reasoning, tool_calls, finish_reason)."""
    content, reasoning, calls, finish = "", "", {}, None
    for chunk in oai.chat.completions.create(stream=True, **kw):
        for c in chunk.choices:
            d = c.delta
            content += d.content or ""
            reasoning += reasoning_of(d)
            for tc in d.tool_calls or []:
                call = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                if tc.id:
                    call["id"] = tc.id
                if tc.function and tc.function.name:
                    call["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    call["arguments"] += tc.function.arguments
            finish = c.finish_reason or finish
    return content, reasoning, [calls[i] for i in sorted(calls)], finish


# ---------------------------------------------------------------- structured output


def test_corpus_has_enough_schemas():
    assert len(SCHEMAS) >= 50, len(SCHEMAS)
    assert UNSUPPORTED


def ask_for_schema(oai, i, path, max_tokens, temperature, prompt):
    """One json_schema request for a corpus schema (odd i streamed): (name, schema, text, finish)."""
    schema = schema_of(path)
    kw = dict(model="m", max_tokens=max_tokens, temperature=temperature, seed=i,
              messages=[{"role": "user", "content": prompt}],
              response_format={"type": "json_schema",
                               "json_schema": {"name": "doc", "schema": schema, "strict": True}})
    if i % 2:
        text, _, _, finish = stream_message(oai, **kw)
    else:
        r = oai.chat.completions.create(**kw)
        text, finish = r.choices[0].message.content, r.choices[0].finish_reason
    return path.name, schema, text, finish


def test_json_schema_corpus_16_concurrent_with_free_requests(oai):
    """Corpus schemas, half streamed, 16 at a time, with unconstrained requests in between: every
    third schema (~1 min), all of them with SLUICE_E2E_FULL=1 (~4 min)."""
    schemas = SCHEMAS if FULL else SCHEMAS[::3]

    def constrained(i, path):
        return ask_for_schema(oai, i, path, max_tokens=400, temperature=0.7,
                              prompt=f"Produce a JSON document for: {path.stem}")

    def free(i):
        r = oai.chat.completions.create(model="m", max_tokens=24, temperature=0.7, seed=i,
                                        messages=[{"role": "user", "content": "Tell me a story."}])
        return r.choices[0].finish_reason

    with ThreadPoolExecutor(16) as pool:
        jobs = []
        for i, path in enumerate(schemas):
            jobs.append(pool.submit(constrained, i, path))
            if i % 3 == 0:
                jobs.append(pool.submit(free, i))
        results = [j.result() for j in jobs]
    # Every output must be complete, parse and validate: near max_tokens the budget rule steers
    # the grammar to its shortest completion (no output is cut).
    checked = 0
    for r in results:
        if isinstance(r, str):
            assert r in ("stop", "length")
            continue
        check_complete_document(*r)
        checked += 1
    assert checked == len(schemas)


def check_complete_document(name, schema, text, finish):
    assert finish == "stop", f"{name}: finish {finish}, text {text[:300]!r}"
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = list(validator.iter_errors(json.loads(text)))
    assert not errors, f"{name}: {text[:300]!r}: {errors[0].message}"


def test_json_schema_corpus_on_a_random_model_always_completes(sluice_bin, qwen3_model):
    """A random-weight model rarely ends a document by itself: every corpus schema, 16 at a time,
    half streamed, must still come back complete and valid within a modest max_tokens."""
    with SluiceServer(sluice_bin, "-m", str(qwen3_model)) as s:
        oai = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=600)

        def constrained(i, path):
            return ask_for_schema(oai, i, path, max_tokens=256, temperature=1.0,
                                  prompt=f"A JSON document for: {path.stem}")

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(constrained, range(len(SCHEMAS)), SCHEMAS))
    for r in results:
        check_complete_document(*r)


def test_json_object_mode_streamed_and_not(oai):
    kw = dict(model="m", max_tokens=300, temperature=0,
              messages=[{"role": "user", "content": "Reply with a JSON object whose key 'ok' is true."}],
              response_format={"type": "json_object"})
    r = oai.chat.completions.create(**kw)
    assert isinstance(json.loads(r.choices[0].message.content), dict)
    text, _, _, finish = stream_message(oai, **kw)
    assert finish == "stop"
    assert text == r.choices[0].message.content


def test_unsupported_schema_keywords_are_400_naming_them(oai):
    for path in UNSUPPORTED:
        with pytest.raises(openai.BadRequestError) as e:
            oai.chat.completions.create(
                model="m", max_tokens=8, messages=ASK,
                response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema_of(path)}})
        assert e.value.body["param"] == "response_format", path.name
        assert "unsupported" in e.value.body["message"] or "not supported" in e.value.body["message"], \
            e.value.body["message"]


def test_completions_response_format(oai):
    r = oai.completions.create(model="m", prompt="A JSON list of numbers:", max_tokens=120, temperature=0,
                               extra_body={"response_format": {"type": "json_schema", "json_schema": {
                                   "name": "l", "schema": {"type": "array", "items": {"type": "integer"},
                                                           "minItems": 2, "maxItems": 5}}}})
    doc = json.loads(r.choices[0].text)
    assert isinstance(doc, list) and 2 <= len(doc) <= 5


# ---------------------------------------------------------------- OpenAI tools


def check_calls(calls, allowed=("get_weather", "get_time")):
    for c in calls:
        name = c.function.name if hasattr(c, "function") else c["name"]
        args = c.function.arguments if hasattr(c, "function") else c["arguments"]
        assert name in allowed, name
        schema = WEATHER["parameters"] if name == "get_weather" else TIME["parameters"]
        jsonschema.validate(json.loads(args), schema)


@pytest.mark.parametrize("parallel", [True, False])
def test_openai_tool_choice_required(oai, parallel):
    r = oai.chat.completions.create(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="required",
                                    parallel_tool_calls=parallel, max_tokens=150, temperature=0)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and (parallel or len(calls) == 1), calls
    assert all(c.id.startswith("call_") for c in calls)
    check_calls(calls)


def test_openai_named_tool_choice(oai):
    r = oai.chat.completions.create(model="m", messages=ASK, tools=OPENAI_TOOLS, max_tokens=150, temperature=0,
                                    tool_choice={"type": "function", "function": {"name": "get_time"}})
    calls = r.choices[0].message.tool_calls
    assert calls and all(c.function.name == "get_time" for c in calls)
    check_calls(calls, allowed=("get_time",))


def test_openai_tool_choice_none_and_auto(oai):
    r = oai.chat.completions.create(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="none",
                                    max_tokens=20, temperature=0)
    assert not r.choices[0].message.tool_calls
    assert r.choices[0].message.content
    r = oai.chat.completions.create(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="auto",
                                    max_tokens=60, temperature=0)
    m = r.choices[0].message
    if m.tool_calls:  # whatever the model chose, the parse is well-formed
        check_calls(m.tool_calls)
        assert r.choices[0].finish_reason == "tool_calls"
    else:
        assert m.content is not None


def test_openai_streamed_tool_calls_equal_non_streamed(oai):
    kw = dict(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="required", max_tokens=150,
              temperature=0)
    r = oai.chat.completions.create(**kw)
    content, _, calls, finish = stream_message(oai, **kw)
    assert finish == "tool_calls"
    assert [(c["name"], c["arguments"]) for c in calls] == \
        [(c.function.name, c.function.arguments) for c in r.choices[0].message.tool_calls]
    assert all(c["id"].startswith("call_") for c in calls)


def test_openai_follow_up_turn_with_tool_results(oai):
    r = oai.chat.completions.create(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="required",
                                    max_tokens=150, temperature=0)
    m = r.choices[0].message
    history = ASK + [{"role": "assistant", "content": m.content,
                      "tool_calls": [c.model_dump() for c in m.tool_calls]}]
    for c in m.tool_calls:
        history.append({"role": "tool", "tool_call_id": c.id, "content": json.dumps({"result": "sunny, 21C"})})
    r2 = oai.chat.completions.create(model="m", messages=history, tools=OPENAI_TOOLS, max_tokens=30,
                                     temperature=0)
    assert r2.choices[0].finish_reason in ("stop", "length", "tool_calls")


def test_openai_tool_errors_are_400(oai):
    bad = [
        (dict(tools=OPENAI_TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}}), "tool_choice"),
        (dict(tools=[{"type": "function", "function": {"name": "bad name!"}}]), "tools"),
        (dict(tools=[{"type": "code_interpreter"}]), "tools"),
        (dict(tool_choice="required"), "tool_choice"),
        (dict(tools=OPENAI_TOOLS, tool_choice="sometimes"), "tool_choice"),
        (dict(tools=OPENAI_TOOLS, tool_choice="required", response_format={"type": "json_object"}),
         "response_format"),
    ]
    for kw, param in bad:
        with pytest.raises(openai.BadRequestError) as e:
            oai.chat.completions.create(model="m", messages=ASK, max_tokens=8, **kw)
        assert e.value.body["param"] == param, (kw, e.value.body)


# ---------------------------------------------------------------- Anthropic tools


def anthropic_stream(ant, **kw):
    """Streams a message; returns the blocks as the SDK assembles them and the stop reason."""
    with ant.messages.stream(**kw) as s:
        msg = s.get_final_message()
    return msg


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_choice_any_and_tool(ant, stream):
    for choice, allowed in (({"type": "any"}, ("get_weather", "get_time")),
                            ({"type": "tool", "name": "get_weather"}, ("get_weather",))):
        kw = dict(model="m", max_tokens=150, extra_body=GREEDY, messages=ASK, tools=ANTHROPIC_TOOLS,
                  tool_choice=choice)
        msg = anthropic_stream(ant, **kw) if stream else ant.messages.create(**kw)
        uses = [b for b in msg.content if b.type == "tool_use"]
        assert uses, msg.content
        assert msg.stop_reason == "tool_use"
        for b in uses:
            assert b.name in allowed and b.id.startswith("toolu_")
            jsonschema.validate(b.input, WEATHER["parameters"] if b.name == "get_weather" else TIME["parameters"])


def test_anthropic_streamed_tool_use_equals_non_streamed(ant):
    kw = dict(model="m", max_tokens=150, extra_body=GREEDY, messages=ASK, tools=ANTHROPIC_TOOLS,
              tool_choice={"type": "any", "disable_parallel_tool_use": True})
    a = ant.messages.create(**kw)
    b = anthropic_stream(ant, **kw)
    strip = lambda m: [(x.type, getattr(x, "name", None), getattr(x, "input", None), getattr(x, "text", None))
                       for x in m.content]
    assert strip(a) == strip(b)
    assert sum(x.type == "tool_use" for x in a.content) == 1


def test_anthropic_tool_result_follow_up_and_none(ant):
    first = ant.messages.create(model="m", max_tokens=150, extra_body=GREEDY, messages=ASK,
                                tools=ANTHROPIC_TOOLS, tool_choice={"type": "any"})
    results = [{"type": "tool_result", "tool_use_id": b.id, "content": "sunny, 21C"}
               for b in first.content if b.type == "tool_use"]
    history = ASK + [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                     {"role": "user", "content": results + [{"type": "text", "text": "Thanks, summarize."}]}]
    r = ant.messages.create(model="m", max_tokens=30, extra_body=GREEDY, messages=history, tools=ANTHROPIC_TOOLS)
    assert r.stop_reason in ("end_turn", "max_tokens", "tool_use")
    n = ant.messages.create(model="m", max_tokens=20, extra_body=GREEDY, messages=ASK, tools=ANTHROPIC_TOOLS,
                            tool_choice={"type": "none"})
    assert [b.type for b in n.content] == ["text"]
    count = ant.messages.count_tokens(model="m", messages=ASK, tools=ANTHROPIC_TOOLS)
    plain = ant.messages.count_tokens(model="m", messages=ASK)
    assert count.input_tokens > plain.input_tokens  # the tools are part of the prompt


def test_anthropic_output_format(ant):
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30},
                                               "population": {"type": "integer", "minimum": 0, "maximum": 100000000}},
              "required": ["city", "population"], "additionalProperties": False}
    r = ant.messages.create(model="m", max_tokens=120,
                            messages=[{"role": "user", "content": "The largest city in France, as JSON."}],
                            extra_body={**GREEDY, "output_format": {"type": "json_schema", "schema": schema}})
    jsonschema.validate(json.loads(r.content[0].text), schema)


# ---------------------------------------------------------------- Hermes format and reasoning


@pytest.fixture(scope="module")
def qwen3_model(make_model):
    return make_model("qwen3", "gguf-q8_0")


def test_hermes_tool_calls_on_a_qwen3_template(sluice_bin, qwen3_model, testdata):
    tpl = testdata / "templates" / "Qwen-Qwen3-0.6B.jinja"
    with SluiceServer(sluice_bin, "-m", str(qwen3_model), "--chat-template", str(tpl)) as s:
        oai = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=300)
        # One call (parallel_tool_calls=False) with bounded strings ends well within max_tokens even
        # for random weights.
        kw = dict(model="m", messages=ASK, tools=OPENAI_TOOLS, tool_choice="required", max_tokens=400,
                  parallel_tool_calls=False, temperature=0.8, seed=3,
                  extra_body={"chat_template_kwargs": {"enable_thinking": False}})
        r = oai.chat.completions.create(**kw)
        calls = r.choices[0].message.tool_calls
        assert calls and r.choices[0].finish_reason == "tool_calls", r.choices[0]
        check_calls(calls)
        assert "<tool_call>" not in (r.choices[0].message.content or "")
        _, _, streamed, finish = stream_message(oai, **kw)
        assert finish == "tool_calls"
        assert [(c["name"], c["arguments"]) for c in streamed] == \
            [(c.function.name, c.function.arguments) for c in calls]


def test_reasoning_budget_ends_the_thinking_section(sluice_bin, qwen3_model, testdata, default_tokenizer):
    # The template closes <think> in the prompt unless enable_thinking is set: the server must
    # default it on. A random-weight model repeats the prompt's last token ("\n"), so whitespace
    # is banned to make the sections visible (the forced "\n</think>\n\n" is not sampled).
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(str(default_tokenizer("qwen3")))
    no_ws = {str(hf.token_to_id(t)): -100 for t in ("\u010a", "\u010a\u010a")}  # "\n", "\n\n"
    tpl = testdata / "templates" / "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"  # opens <think>
    with SluiceServer(sluice_bin, "-m", str(qwen3_model), "--chat-template", str(tpl)) as s:
        oai = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=300)
        kw = dict(model="m", messages=ASK, max_tokens=16, temperature=0.8, seed=1,
                  extra_body={"ignore_eos": True, "thinking_budget": 4, "logit_bias": no_ws})
        r = oai.chat.completions.create(logprobs=True, **kw)
        m = r.choices[0].message
        reasoning = reasoning_of(m)
        assert reasoning, m
        assert m.content, m  # the forced </think> ended the section; the answer followed
        assert "</think>" not in m.content and "</think>" not in reasoning
        tokens = [t.token for t in r.choices[0].logprobs.content]
        assert tokens.index("</think>") - 1 <= 4, tokens  # at most the budget before "\n</think>"
        content, streamed_reasoning, _, _ = stream_message(oai, **kw)
        assert (content, streamed_reasoning) == (m.content, reasoning)
        ant = anthropic.Anthropic(base_url=s.base_url, api_key="x", max_retries=0, timeout=300)
        kw = dict(model="m", max_tokens=16, messages=ASK, thinking={"type": "enabled", "budget_tokens": 4})
        blocks = []
        for msg in (ant.messages.create(**kw), anthropic_stream(ant, **kw)):
            # Whitespace-only sections (no logit_bias here) leave no thinking block; none leaks.
            assert msg.stop_reason == "max_tokens" and msg.usage.output_tokens == 16, msg
            assert all("</think>" not in (getattr(b, "thinking", None) or getattr(b, "text", ""))
                       for b in msg.content), msg.content
            blocks.append([(b.type, getattr(b, "thinking", None) or getattr(b, "text", ""))
                           for b in msg.content if b.type != "text" or b.text])
        assert blocks[0] == blocks[1]
