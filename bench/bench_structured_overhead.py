"""Decode-step overhead of grammar-constrained vs free decoding at batch 16 (issue 7).

Starts `sluice serve` on the default model, runs 16 concurrent requests of 128 output tokens
twice: free (ignore_eos) and constrained by a JSON schema whose shortest valid output is longer
than 128 tokens (an array of at least 200 short strings), so both runs decode exactly 128 tokens per
request. Reports aggregate output tokens/s of each and the overhead. Usage:
    .venv/bin/python bench/bench_structured_overhead.py [--sluice-bin build/release/sluice] [--reps 3]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from server_util import SluiceServer  # noqa: E402

SCHEMA = {"type": "array", "minItems": 200,
          "items": {"type": "string", "enum": ["red", "green", "blue", "yellow", "purple"]}}


def run(client, constrained: bool, concurrency: int, max_tokens: int) -> float:
    def one(i):
        kw = dict(model="m", max_tokens=max_tokens, temperature=0.8, seed=i,
                  messages=[{"role": "user", "content": f"List many colors, please ({i})."}])
        if constrained:
            kw["response_format"] = {"type": "json_schema", "json_schema": {"name": "c", "schema": SCHEMA}}
        else:
            kw["extra_body"] = {"ignore_eos": True}
        r = client.chat.completions.create(**kw)
        assert r.usage.completion_tokens == max_tokens, r.usage
        return r.usage.completion_tokens

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        tokens = sum(pool.map(one, range(concurrency)))
    return tokens / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice-bin", default="build/release/sluice")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=128)
    a = ap.parse_args()
    with SluiceServer(a.sluice_bin) as s:
        client = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=600)
        run(client, True, a.concurrency, 16)  # warm: grammar compiled, mask cache filled
        free, constrained = [], []
        for _ in range(a.reps):
            free.append(run(client, False, a.concurrency, a.max_tokens))
            constrained.append(run(client, True, a.concurrency, a.max_tokens))
    best_free, best_con = max(free), max(constrained)
    result = {"concurrency": a.concurrency, "max_tokens": a.max_tokens, "free_tok_s": free,
              "constrained_tok_s": constrained, "overhead": 1 - best_con / best_free}
    print(json.dumps(result, indent=1))
    out = Path(__file__).resolve().parent / "results" / "structured_overhead.json"
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
