"""Summaries of a cell (server x workload x concurrency): latency percentiles, throughput, the
sanity verdict."""
from __future__ import annotations

import math

import numpy as np

from .client import RequestResult


def dist(xs: list[float]) -> dict:
    xs = [x for x in xs if x == x]
    if not xs:
        return {"mean": None, "p50": None, "p99": None}
    a = np.asarray(xs)
    return {"mean": float(a.mean()), "p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99))}


def check_lengths(results: list[RequestResult], want: int, count_text) -> list[str]:
    """Problems with output lengths: each request must end by length with exactly `want` tokens
    (usage), or -- where the server sends no usage -- with `want` text chunks or a tokenizer count
    of the text within 10% of `want` (retokenizing decoded text is not exact)."""
    problems = []
    for i, r in enumerate(results):
        if not r.ok:
            problems.append(f"request {i}: {r.error}")
            continue
        if r.finish_reason != "length":
            problems.append(f"request {i}: finish_reason={r.finish_reason!r} after {r.output_tokens} tokens")
            continue
        if r.counted_by == "usage":
            if r.output_tokens != want:
                problems.append(f"request {i}: {r.output_tokens} tokens (usage), want {want}")
        else:
            n_tok = count_text(r.text)
            r.output_tokens = r.num_chunks if r.num_chunks == want else max(r.num_chunks, min(n_tok, want))
            if r.num_chunks != want and abs(n_tok - want) > 0.1 * want:
                problems.append(f"request {i}: {r.num_chunks} chunks, {n_tok} tokens by the tokenizer, want {want}")
    return problems


def summarize(results: list[RequestResult], wall_s: float, prompt_tokens_each: list[int] | None,
              problems: list[str]) -> dict:
    ok = [r for r in results if r.ok]
    out_tok = sum(r.output_tokens for r in ok)
    # Prompt tokens: the server's count where it sends usage, else our tokenizer's.
    ptoks = []
    for i, r in enumerate(ok):
        if r.prompt_tokens is not None:
            ptoks.append(r.prompt_tokens)
        elif prompt_tokens_each is not None:
            ptoks.append(prompt_tokens_each[results.index(r)])
    cached = [r.cached_tokens for r in ok if r.cached_tokens is not None and r.prompt_tokens]
    hit = (sum(cached) / sum(r.prompt_tokens for r in ok if r.cached_tokens is not None and r.prompt_tokens)
           if cached else None)
    itl = [x for r in ok for x in r.itl]
    s = {
        "status": "OK" if not problems else "FAILING",
        "problems": problems[:10],
        "num_problems": len(problems),
        "requests": len(results),
        "ok": len(ok),
        "wall_s": wall_s,
        "ttft_s": dist([r.ttft for r in ok]),
        "tpot_s": dist([r.tpot for r in ok]),
        "itl_s": dist(itl),
        "e2e_s": dist([r.e2e for r in ok]),
        "requests_per_s": len(ok) / wall_s if wall_s > 0 else None,
        "output_tok_s": out_tok / wall_s if wall_s > 0 else None,
        "total_tok_s": (out_tok + sum(ptoks)) / wall_s if wall_s > 0 else None,
        "output_tokens": out_tok,
        "prompt_tokens": sum(ptoks),
        "prefix_cache_hit_rate": hit,
        "counted_by": sorted({r.counted_by for r in ok}),
        "raw": [{"ttft": r.ttft, "e2e": r.e2e, "output_tokens": r.output_tokens, "chunks": r.num_chunks,
                 "prompt_tokens": r.prompt_tokens, "cached_tokens": r.cached_tokens,
                 "finish_reason": r.finish_reason, "error": r.error or None,
                 "itl_mean": (sum(r.itl) / len(r.itl)) if r.itl else None} for r in results],
    }
    return s


def fmt(x, unit: str = "", nd: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{nd}f}{unit}"
