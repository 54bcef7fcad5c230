"""Streaming HTTP load for the GPU machine, standard library only (no aiohttp there).

Sends `--requests` streamed `/v1/completions` requests, `--concurrency` at a time, each a prompt of
exactly `--prompt-len` random token ids (distinct first token: no two share a KV block) and
`--max-tokens` outputs with `ignore_eos` (sluice and llama-server both honour it), and prints one
JSON line: output tok/s over the wall time (first send to last byte), TTFT and TPOT percentiles.

  python3 bench/gpu/http_load.py --url http://127.0.0.1:8080 --model m -c 16 -n 32
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from urllib.parse import urlparse


def one_request(url: str, body: dict, timeout: float) -> dict:
    """One streamed request; the times of the first and last text events and the usage."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    t0 = time.perf_counter()
    first = last = None
    chunks, usage = 0, None
    try:
        conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            return {"error": f"HTTP {resp.status}: {resp.read()[:200]!r}"}
        for raw in resp:  # SSE lines
            line = raw.strip()
            if not line.startswith(b"data:") or line[5:].strip() == b"[DONE]":
                continue
            ev = json.loads(line[5:])
            if ev.get("usage"):
                usage = ev["usage"]
            for ch in ev.get("choices") or []:
                if ch.get("text"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    chunks += 1
    except (OSError, ValueError) as e:
        return {"error": f"{type(e).__name__}: {e}"}
    finally:
        conn.close()
    if first is None:
        return {"error": "no output"}
    n_out = (usage or {}).get("completion_tokens") or chunks
    return {"ttft": first - t0, "e2e": last - t0, "n_out": n_out,
            "tpot": (last - first) / max(1, n_out - 1), "t_end": last}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", default="model")
    ap.add_argument("-c", "--concurrency", type=int, default=1)
    ap.add_argument("-n", "--requests", type=int, default=4)
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=30000, help="token ids are drawn from [1000, VOCAB)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bodies = []
    for i in range(a.requests):
        ids = [1000 + (a.seed * 7919 + i) % (a.vocab - 1000)] + [rng.randrange(1000, a.vocab) for _ in range(a.prompt_len - 1)]
        bodies.append({"model": a.model, "prompt": ids, "max_tokens": a.max_tokens, "temperature": 0,
                       "stream": True, "ignore_eos": True, "stream_options": {"include_usage": True}})
    results: list[dict] = [{} for _ in bodies]
    next_i, lock = [0], threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(bodies):
                return
            results[i] = one_request(a.url, bodies[i], a.timeout)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if "error" not in r]
    errors = [r["error"] for r in results if "error" in r]
    wall = (max(r["t_end"] for r in ok) - t0) if ok else float("nan")
    short = [r["n_out"] for r in ok if r["n_out"] != a.max_tokens]
    out = {"label": a.label, "concurrency": a.concurrency, "requests": a.requests, "ok": len(ok),
           "errors": errors[:3], "wrong_lengths": short[:5], "prompt_len": a.prompt_len, "max_tokens": a.max_tokens,
           "wall_s": wall, "output_tok_s": sum(r["n_out"] for r in ok) / wall if ok else 0,
           "ttft_p50_ms": 1e3 * pct([r["ttft"] for r in ok], 0.5), "ttft_p99_ms": 1e3 * pct([r["ttft"] for r in ok], 0.99),
           "tpot_mean_ms": 1e3 * statistics.fmean(r["tpot"] for r in ok) if ok else float("nan")}
    print(json.dumps(out))
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
