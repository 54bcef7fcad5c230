#!/usr/bin/env python3
"""Alternated A/B of `sluice run` variants at one concurrency (the bench_engine.py workload).

    .venv/bin/python bench/ab_engine.py --only qwen3-0.6b --concurrency 16 --rounds 4 \
        --variant new=build/release/sluice --variant old=/tmp/old/sluice:SLUICE_X=0

A variant is NAME=BINARY[:VAR=VALUE,...] (environment added for that variant). Rounds run every
variant in turn, so slow drift of the machine's speed hits all of them alike; prints each
round's aggregate generation tok/s and the medians. The Qwen3-shape model is the one
bench_engine.py makes under --models-dir (run it once first).
"""
import argparse
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engine  # noqa: E402
from bench_run import find_smollm2  # noqa: E402


def parse_variant(text: str) -> tuple[str, Path, dict]:
    name, _, rest = text.partition("=")
    binary, _, env_text = rest.partition(":")
    env = dict(kv.split("=", 1) for kv in env_text.split(",") if kv)
    return name, Path(binary), env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["smollm2", "qwen3-0.6b"], default="qwen3-0.6b")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prompt-words", type=int, default=48)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--models-dir", default="/tmp/sluice-bench-models")
    ap.add_argument("--flags", default="", help="engine flags added to every run")
    ap.add_argument("--variant", action="append", required=True, help="NAME=BINARY[:VAR=VALUE,...]")
    a = ap.parse_args()

    model = find_smollm2() if a.only == "smollm2" else Path(a.models_dir) / "qwen3-0.6b-mlx4"
    rng = random.Random(0)
    n_req = max(16, a.concurrency)
    prompts = [bench_engine.words(rng, a.prompt_words) for _ in range(n_req)]
    bench_engine.FLAGS[:] = a.flags.split()
    variants = [parse_variant(v) for v in a.variant]
    results: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    saved = dict(os.environ)
    for r in range(a.rounds):
        for name, binary, env in variants:
            os.environ.clear()
            os.environ.update(saved)
            os.environ.update(env)
            rows, wall = bench_engine.run_prompts(binary, model, prompts, a.concurrency, a.gen_tokens, [])
            tps = sum(row["output_tokens"] for row in rows) / wall
            results[name].append(tps)
            print(f"round {r + 1} {name}: {tps:.1f} tok/s", flush=True)
    os.environ.clear()
    os.environ.update(saved)
    for name, values in results.items():
        print(f"{name}: median {statistics.median(values):.1f} tok/s over {len(values)} rounds "
              f"({', '.join(f'{v:.1f}' for v in values)})")


if __name__ == "__main__":
    main()
