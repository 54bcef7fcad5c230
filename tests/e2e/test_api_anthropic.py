"""The Anthropic Messages API of `sluice serve` (POST /v1/messages, /v1/messages/count_tokens),
driven by the official `anthropic` client on the default model (SmolLM2-135M-Instruct Q4_1).

One server serves the module; two small extra servers check --strict-model-id + --api-key and
--request-timeout. Generations stay at max_tokens <= 16, except in the client-disconnect and
timeout tests, whose long requests must be cut short by the abort.
"""
from __future__ import annotations

import json
import time
import urllib.request

import anthropic
import pytest

from e2e_util import THREADS
from server_util import SluiceServer

SERVE_ARGS = ("--threads", str(THREADS))
PROMPTS = [
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "List three colors.",
]
# About 400 tokens of system prompt: far more than one KV block, so a repeat hits the prefix cache.
# Greedy decoding runs this count to any max_tokens (the prefill keeps the model counting).
COUNTING = [{"role": "user", "content": "Count from 1 to 5000, separated by commas."},
            {"role": "assistant", "content": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"}]
LONG_SYSTEM = " ".join(
    f"Rule {i}: answer briefly, politely and accurately, and never invent facts." for i in range(30))


@pytest.fixture(scope="module")
def server(sluice_bin):
    with SluiceServer(sluice_bin, *SERVE_ARGS) as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    return anthropic.Anthropic(base_url=server.base_url, api_key="x", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def model_id(server):
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=10) as r:
        return json.load(r)["data"][0]["id"]


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# The installed client (anthropic 2.x) no longer has typed temperature / top_p / top_k
# arguments; the server still takes them, so they go in extra_body.
GREEDY = {"temperature": 0}


def greedy(client, model_id, prompt, max_tokens=16, **kw):
    return client.messages.create(model=model_id, max_tokens=max_tokens, extra_body=GREEDY,
                                  messages=user(prompt), **kw)


def raw_stream(server, body: dict) -> tuple[str, list[tuple[str, dict]]]:
    """(content type, [(event name, data)]) of a streaming POST /v1/messages, read to the end."""
    req = urllib.request.Request(server.base_url + "/v1/messages", method="POST",
                                 data=json.dumps({**body, "stream": True}).encode(),
                                 headers={"Content-Type": "application/json",
                                          "anthropic-version": "2023-06-01"})
    with urllib.request.urlopen(req, timeout=120) as r:
        ctype, text = r.headers["Content-Type"], r.read().decode()
    assert text.endswith("\n\n"), text[-200:]
    events = []
    for frame in text.strip("\n").split("\n\n"):
        lines = frame.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        events.append((lines[0][len("event: "):], json.loads(lines[1][len("data: "):])))
    return ctype, events


def assert_anthropic_error(body, status: int, status_expected: int, error_type: str, *words: str):
    assert status == status_expected, body
    assert isinstance(body, dict) and body.get("type") == "error", body
    assert body["error"]["type"] == error_type, body
    assert isinstance(body["error"]["message"], str)
    for w in words:
        assert w in body["error"]["message"], body


# ---------------------------------------------------------------- messages


def test_message_non_streaming(client, model_id):
    m = greedy(client, model_id, PROMPTS[0])
    assert m.type == "message" and m.role == "assistant"
    assert m.id.startswith("msg_")
    assert m.model == model_id
    assert len(m.content) == 1 and m.content[0].type == "text" and m.content[0].text
    assert m.stop_reason in ("end_turn", "max_tokens")
    assert m.stop_sequence is None
    assert m.usage.output_tokens >= 1
    assert m.usage.input_tokens + m.usage.cache_read_input_tokens > 5
    assert m.usage.cache_creation_input_tokens == 0


def test_message_streaming_helper(client, model_id):
    with client.messages.stream(model=model_id, max_tokens=16, extra_body=GREEDY,
                                messages=user(PROMPTS[1])) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text and final.content[0].text == text
    assert final.id.startswith("msg_") and final.model == model_id
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert 1 <= final.usage.output_tokens <= 16
    if final.stop_reason == "max_tokens":
        assert final.usage.output_tokens == 16


def test_raw_event_sequence(client, model_id):
    stream = client.messages.create(model=model_id, max_tokens=8, extra_body=GREEDY,
                                    messages=user(PROMPTS[2]), stream=True)
    events = list(stream)  # the client drops pings; test_raw_sse_wire_format sees them
    types = [e.type for e in events]
    assert types[:2] == ["message_start", "content_block_start"], types
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"], types
    assert types[2:-3] and set(types[2:-3]) == {"content_block_delta"}, types
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == greedy(client, model_id, PROMPTS[2], max_tokens=8).content[0].text


def test_raw_sse_wire_format(server, model_id):
    ctype, events = raw_stream(server, {"model": model_id, "max_tokens": 6, "temperature": 0,
                                        "messages": user(PROMPTS[0])})
    assert ctype.startswith("text/event-stream")
    for name, data in events:
        assert data["type"] == name
    # The reference order; keep-alive pings may follow the first one anywhere before the end.
    names = [n for n, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"], names
    body = [n for n in names[3:] if n != "ping"]
    assert body[-3:] == ["content_block_stop", "message_delta", "message_stop"], names
    assert body[:-3] and set(body[:-3]) == {"content_block_delta"}, names
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["role"] == "assistant"
    assert start["usage"]["input_tokens"] > 0 and start["usage"]["output_tokens"] == 0
    assert events[1][1] == {"type": "content_block_start", "index": 0,
                            "content_block": {"type": "text", "text": ""}}
    deltas = [d for n, d in events if n == "content_block_delta"]
    assert all(d["index"] == 0 and d["delta"]["type"] == "text_delta" for d in deltas)
    msg_delta = [d for n, d in events if n == "message_delta"][0]
    assert msg_delta["delta"]["stop_reason"] in ("end_turn", "max_tokens")
    assert "stop_sequence" in msg_delta["delta"]
    assert msg_delta["usage"]["output_tokens"] >= 1
    assert events[-1] == ("message_stop", {"type": "message_stop"})


def test_system_string_and_blocks(client, model_id):
    sys_text = "You are a pirate. Answer like a pirate."
    a = greedy(client, model_id, PROMPTS[0], system=sys_text)
    b = greedy(client, model_id, PROMPTS[0], system=[{"type": "text", "text": sys_text}])
    assert a.content[0].text == b.content[0].text
    n_a = client.messages.count_tokens(model=model_id, messages=user(PROMPTS[0]), system=sys_text)
    n_b = client.messages.count_tokens(model=model_id, messages=user(PROMPTS[0]),
                                       system=[{"type": "text", "text": sys_text}])
    assert n_a.input_tokens == n_b.input_tokens
    assert a.usage.input_tokens + a.usage.cache_read_input_tokens == n_a.input_tokens


def test_temperature_zero_is_deterministic(client, model_id):
    texts = {greedy(client, model_id, PROMPTS[1]).content[0].text for _ in range(2)}
    assert len(texts) == 1


@pytest.mark.parametrize("prompt", PROMPTS)
def test_stream_matches_non_stream(client, model_id, prompt):
    once = greedy(client, model_id, prompt)
    with client.messages.stream(model=model_id, max_tokens=16, extra_body=GREEDY,
                                messages=user(prompt)) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    assert streamed == once.content[0].text
    assert final.stop_reason == once.stop_reason
    assert final.usage.output_tokens == once.usage.output_tokens


def test_max_tokens_stop_reason(client, model_id):
    m = greedy(client, model_id, "Write a long story about a dragon and a knight.", max_tokens=5)
    assert m.stop_reason == "max_tokens"
    assert m.usage.output_tokens == 5


def test_stop_sequences(client, model_id):
    full = greedy(client, model_id, PROMPTS[0]).content[0].text
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]  # a word well inside the reply
    cut = full[:full.index(stop)]
    m = greedy(client, model_id, PROMPTS[0], stop_sequences=["zzzqqq", stop])
    assert m.stop_reason == "stop_sequence"
    assert m.stop_sequence == stop
    assert stop not in m.content[0].text
    assert m.content[0].text == cut
    with client.messages.stream(model=model_id, max_tokens=16, extra_body=GREEDY,
                                messages=user(PROMPTS[0]), stop_sequences=[stop]) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    assert streamed == cut
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == stop


def test_top_k_top_p_metadata_accepted(client, model_id):
    m = client.messages.create(model=model_id, max_tokens=8, metadata={"user_id": "u-1"},
                               extra_body={"temperature": 0.7, "top_k": 5, "top_p": 0.9},
                               messages=user(PROMPTS[2]))
    assert m.content[0].type == "text" and m.usage.output_tokens >= 1


def test_usage_matches_count_tokens(client, model_id):
    messages = [{"role": "user", "content": "Hi there."},
                {"role": "assistant", "content": "Hello! How can I help?"},
                {"role": "user", "content": [{"type": "text", "text": "Name a fruit."}]}]
    n = client.messages.count_tokens(model=model_id, messages=messages).input_tokens
    m = client.messages.create(model=model_id, max_tokens=8, extra_body=GREEDY, messages=messages)
    assert m.usage.input_tokens + m.usage.cache_read_input_tokens == n
    assert m.usage.cache_creation_input_tokens == 0
    with client.messages.stream(model=model_id, max_tokens=8, extra_body=GREEDY,
                                messages=messages) as s:
        final = s.get_final_message()
    assert final.usage.input_tokens + final.usage.cache_read_input_tokens == n


def test_prefix_cache_read(client, model_id):
    n = client.messages.count_tokens(model=model_id, system=LONG_SYSTEM,
                                     messages=user(PROMPTS[0])).input_tokens
    assert n > 300
    first = greedy(client, model_id, PROMPTS[0], max_tokens=4, system=LONG_SYSTEM)
    second = greedy(client, model_id, PROMPTS[0], max_tokens=4, system=LONG_SYSTEM)
    assert second.usage.cache_read_input_tokens > 0
    assert second.usage.cache_read_input_tokens >= n - 2 * 16 - 1  # all full blocks but the last
    for m in (first, second):
        assert m.usage.input_tokens + m.usage.cache_read_input_tokens == n
    with client.messages.stream(model=model_id, max_tokens=4, extra_body=GREEDY, system=LONG_SYSTEM,
                                messages=user(PROMPTS[0])) as s:
        final = s.get_final_message()
    assert final.usage.cache_read_input_tokens > 0
    assert final.usage.input_tokens + final.usage.cache_read_input_tokens == n


def test_count_tokens(client, model_id):
    short = client.messages.count_tokens(model=model_id, messages=user("Hi")).input_tokens
    longer = client.messages.count_tokens(
        model=model_id, messages=user("Hi, please tell me about the history of the Roman empire.")
    ).input_tokens
    assert 0 < short < longer


def test_assistant_prefill(client, model_id):
    messages = user("What is 2 + 2?") + [{"role": "assistant", "content": "The answer is"}]
    m = client.messages.create(model=model_id, max_tokens=8, extra_body=GREEDY, messages=messages)
    assert m.content[0].type == "text"
    assert not m.content[0].text.startswith("The answer is")
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model=model_id, max_tokens=8, messages=user("Hi") + [
            {"role": "assistant", "content": "Well "}])
    assert "trailing whitespace" in e.value.body["error"]["message"]


def test_unknown_fields_ignored(client, model_id):
    m = client.messages.create(model=model_id, max_tokens=4, messages=user("Hi"),
                               cache_control={"type": "ephemeral"}, service_tier="auto",
                               extra_body={"some_future_field": {"x": 1}})
    assert m.content[0].type == "text"


# ---------------------------------------------------------------- errors


def _bad_request(fn, *words):
    with pytest.raises(anthropic.BadRequestError) as e:
        fn()
    assert e.value.status_code == 400
    assert e.value.body["type"] == "error", e.value.body
    assert e.value.body["error"]["type"] == "invalid_request_error", e.value.body
    for w in words:
        assert w in e.value.body["error"]["message"], e.value.body
    return e.value


def test_missing_max_tokens(client, model_id):
    _bad_request(lambda: client.post("/v1/messages", cast_to=anthropic.types.Message,
                                     body={"model": model_id, "messages": user("Hi")}),
                 "max_tokens")


def test_bad_tools_and_thinking_rejected(client, model_id):
    """Tools, thinking and output formats are supported (test_tools_structured.py); malformed
    ones are 400s naming the field."""
    server_tool = {"type": "web_search_20250305", "name": "web_search"}
    _bad_request(lambda: client.messages.create(model=model_id, max_tokens=8, messages=user("Hi"),
                                                tools=[server_tool]), "tools")
    no_schema = {"name": "get_weather", "description": "Weather of a city"}
    _bad_request(lambda: client.messages.count_tokens(model=model_id, messages=user("Hi"),
                                                      tools=[no_schema]), "input_schema")
    _bad_request(lambda: client.messages.create(
        model=model_id, max_tokens=8, messages=user("Hi"),
        thinking={"type": "enabled"}), "budget_tokens")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "not": {}}
    _bad_request(lambda: client.messages.create(
        model=model_id, max_tokens=8, messages=user("Hi"),
        extra_body={"output_format": {"type": "json_schema", "schema": schema}}), "not")
    # Values that ask for nothing are accepted.
    m = client.messages.create(model=model_id, max_tokens=2, messages=user("Hi"),
                               thinking={"type": "disabled"}, output_config={"effort": "low"})
    assert m.content[0].type == "text"


@pytest.mark.parametrize("block", [
    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}},
])
def test_unsupported_blocks_rejected(client, model_id, block):
    messages = [{"role": "user", "content": [{"type": "text", "text": "Look:"}, block]}]
    _bad_request(lambda: client.messages.create(model=model_id, max_tokens=8, messages=messages),
                 block["type"])


def test_temperature_out_of_range(client, model_id):
    _bad_request(lambda: client.messages.create(model=model_id, max_tokens=8, messages=user("Hi"),
                                                extra_body={"temperature": 1.5}), "temperature")


@pytest.mark.parametrize("patch,word", [
    ({"max_tokens": "16"}, "max_tokens"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"messages": "hi"}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "system", "content": "x"}]}, "user or assistant"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "text"),
    ({"messages": [{"role": "user", "content": 7}]}, "content"),
    ({"messages": [{"role": "user"}]}, "content"),
    ({"system": 5}, "system"),
    ({"system": [{"type": "image"}]}, "image"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"top_p": 2}, "top_p"),
    ({"top_k": -1}, "top_k"),
    ({"top_k": "5"}, "top_k"),
    ({"stop_sequences": "x"}, "stop_sequences"),
    ({"stop_sequences": [""]}, "stop_sequences"),
    ({"stream": "yes"}, "stream"),
    ({"metadata": "x"}, "metadata"),
    ({"model": 5}, "model"),
])
def test_wrong_types_are_400(server, model_id, patch, word):
    body = {"model": model_id, "max_tokens": 4, "messages": user("Hi"), **patch}
    status, reply = server.post("/v1/messages", body)
    assert_anthropic_error(reply, status, 400, "invalid_request_error", word)


def test_invalid_json(server):
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        status, reply = server.post(path, None, raw=b'{"model": "x", "messages": [')
        assert_anthropic_error(reply, status, 400, "invalid_request_error")
        status, reply = server.post(path, None, raw=b"[1, 2]")
        assert_anthropic_error(reply, status, 400, "invalid_request_error")


def test_count_tokens_errors(server, model_id):
    status, reply = server.post("/v1/messages/count_tokens", {"model": model_id})
    assert_anthropic_error(reply, status, 400, "invalid_request_error", "messages")
    status, reply = server.post("/v1/messages/count_tokens",
                                {"model": model_id, "messages": user("x"), "system": {"a": 1}})
    assert_anthropic_error(reply, status, 400, "invalid_request_error", "system")


def test_server_survives(server):
    assert server.alive()


# ---------------------------------------------------------------- client disconnect


def test_client_disconnect_aborts(server, client, model_id):
    # Unaborted, this request would run for minutes on a CPU.
    with client.messages.stream(model=model_id, max_tokens=3000, extra_body=GREEDY,
                                messages=COUNTING) as s:
        for _ in s.text_stream:
            break  # leaving the block closes the connection
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        m = server.metrics()
        if m["sluice_num_requests_running"] == 0 and m["sluice_num_requests_waiting"] == 0:
            break
        time.sleep(0.05)
    m = server.metrics()
    assert m["sluice_num_requests_running"] == 0 and m["sluice_num_requests_waiting"] == 0, m


# ---------------------------------------------------------------- other servers


def test_strict_model_id_and_api_key(sluice_bin):
    with SluiceServer(sluice_bin, *SERVE_ARGS, "--strict-model-id", "--api-key", "sekret",
                      "--served-model-name", "smol") as s:
        good = anthropic.Anthropic(base_url=s.base_url, api_key="sekret", max_retries=0)
        bad = anthropic.Anthropic(base_url=s.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError) as e:
            bad.messages.create(model="smol", max_tokens=4, messages=user("Hi"))
        assert e.value.body["type"] == "error"
        assert e.value.body["error"]["type"] == "authentication_error"
        with pytest.raises(anthropic.NotFoundError) as e:
            good.messages.create(model="claude-unknown-model", max_tokens=4, messages=user("Hi"))
        assert e.value.body["error"]["type"] == "not_found_error"
        assert "claude-unknown-model" in e.value.body["error"]["message"]
        with pytest.raises(anthropic.NotFoundError):
            good.messages.count_tokens(model="other", messages=user("Hi"))
        m = good.messages.create(model="smol", max_tokens=4, messages=user("Hi"))
        assert m.model == "smol" and m.content[0].type == "text"
        assert good.messages.count_tokens(model="smol", messages=user("Hi")).input_tokens > 0


def test_timeout_mid_stream_is_error_event(sluice_bin):
    with SluiceServer(sluice_bin, *SERVE_ARGS, "--request-timeout", "0.5") as s:
        _, events = raw_stream(s, {"model": "m", "max_tokens": 3000, "temperature": 0,
                                   "messages": COUNTING})
        names = [n for n, _ in events]
        assert names[:3] == ["message_start", "content_block_start", "ping"], names
        assert names[-1] == "error", names
        assert "message_stop" not in names
        err = events[-1][1]
        assert err["type"] == "error" and err["error"]["type"] == "overloaded_error", err
        # Non-streaming: the same timeout is an HTTP error in Anthropic shape.
        status, reply = s.post("/v1/messages", {"model": "m", "max_tokens": 3000, "temperature": 0,
                                                "messages": COUNTING})
        assert_anthropic_error(reply, status, 503, "overloaded_error", "aborted")
