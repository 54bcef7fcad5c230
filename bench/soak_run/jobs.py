"""Jobs: valid requests, the greedy baseline set, and job i of a run built from (seed, i) alone."""
from __future__ import annotations

import json
import random
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .http_io import JSON
from .mutations import mutant_body
from .shapes import is_anthropic

if TYPE_CHECKING:
    from .runner import Context

POST_ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens",
               "/tokenize", "/detokenize"]
GET_ROUTES = ["/health", "/v1/models", "/v1/models/{id}", "/metrics"]
GENERATE_ROUTES = POST_ROUTES[:3]


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


def make_job(index: int, seed: int, ctx: Context) -> Job:
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


def get_job(index: int, rng: random.Random, ctx: Context) -> Job:
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


def route_job(index: int, rng: random.Random, ctx: Context) -> Job:
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
