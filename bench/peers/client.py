"""A small asyncio streaming client for OpenAI-style servers: one request -> one RequestResult.

Timing is taken on the client, at the arrival of each SSE event that carries generated text:
TTFT = first non-empty text delta - send; ITL = gaps between later text deltas; TPOT =
(end-to-end - TTFT) / (output tokens - 1). Output tokens come from the server's usage (sluice and
mlx-lm send it with stream_options.include_usage); a server that sends none (llama-cpp-python) is
counted by its text deltas (one per token there) and the caller cross-checks with the tokenizer.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import aiohttp


@dataclass
class RequestResult:
    ok: bool = False
    error: str = ""
    t_send: float = 0.0
    ttft: float = float("nan")
    e2e: float = float("nan")
    itl: list[float] = field(default_factory=list)
    text: str = ""
    num_chunks: int = 0  # SSE events that carried text
    usage: dict | None = None
    finish_reason: str | None = None
    output_tokens: int = 0  # from usage, else the chunk count (see counted_by)
    counted_by: str = "usage"
    prompt_tokens: int | None = None
    cached_tokens: int | None = None

    @property
    def tpot(self) -> float:
        if self.output_tokens <= 1:
            return float("nan")
        return (self.e2e - self.ttft) / (self.output_tokens - 1)


async def stream_request(session: aiohttp.ClientSession, url: str, body: dict, timeout_s: float,
                         r: RequestResult | None = None) -> RequestResult:
    """POSTs body (stream=true) to url and reads the SSE stream to the end. Fills r (if given) as
    the stream goes, so a caller that cancels the request still sees what arrived."""
    r = r if r is not None else RequestResult()
    chat = url.endswith("/chat/completions")
    last = None
    r.t_send = time.perf_counter()
    try:
        async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            if resp.status != 200:
                r.error = f"HTTP {resp.status}: {(await resp.text())[:300]}"
                return r
            buf = b""
            async for chunk in resp.content.iter_any():
                now = time.perf_counter()
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.strip()
                    if not line.startswith(b"data:"):
                        continue  # comments (keep-alive), event: lines, blank separators
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        continue
                    try:
                        ev = json.loads(data)
                    except ValueError:
                        r.error = f"bad SSE data: {data[:200]!r}"
                        return r
                    if "error" in ev and not ev.get("choices"):
                        r.error = f"stream error: {str(ev['error'])[:300]}"
                        return r
                    if ev.get("usage"):
                        r.usage = ev["usage"]
                    for ch in ev.get("choices") or []:
                        # A server that parses thinking (llama-server on a Qwen3 template) sends
                        # the same generated text as reasoning_content: it counts as output too.
                        delta = ch.get("delta") or {}
                        piece = (delta.get("content") or delta.get("reasoning_content")) if chat else ch.get("text")
                        if piece:
                            if last is None:
                                r.ttft = now - r.t_send
                            else:
                                r.itl.append(now - last)
                            last = now
                            r.num_chunks += 1
                            r.text += piece
                        if ch.get("finish_reason"):
                            r.finish_reason = ch["finish_reason"]
            r.e2e = time.perf_counter() - r.t_send
    except TimeoutError:
        r.error = f"timed out after {timeout_s:.0f} s"
        return r
    except aiohttp.ClientError as e:
        r.error = f"{type(e).__name__}: {e}"
        return r
    if last is None:
        r.error = "no output"
        return r
    if r.usage and r.usage.get("completion_tokens") is not None:
        r.output_tokens = int(r.usage["completion_tokens"])
        r.prompt_tokens = r.usage.get("prompt_tokens")
        details = r.usage.get("prompt_tokens_details") or {}
        r.cached_tokens = details.get("cached_tokens")
        r.counted_by = "usage"
    else:
        r.output_tokens = r.num_chunks
        r.counted_by = "chunks"
    r.ok = True
    return r
