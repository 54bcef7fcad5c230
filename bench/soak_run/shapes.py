"""Response checks: error bodies in each protocol's shape, well-formed 2xx bodies, the generated text."""
from __future__ import annotations

import json

from .http_io import Reply


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
