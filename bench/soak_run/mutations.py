"""Hostile bodies: a valid template of each POST route, then wrong types, raw literals, deep nesting,
bad UTF-8, field changes, truncation, 100k-element fields, multi-MB strings and more."""
from __future__ import annotations

import json
import random
import threading

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
