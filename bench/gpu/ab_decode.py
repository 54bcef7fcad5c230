#!/usr/bin/env python3
"""A/B of single-stream decode on the GPU machine: several sluice builds (or one build under
several environments), alternated round by round in one run so drift hits all alike.

    python3 bench/gpu/ab_decode.py --tokenizer T --out DIR \\
        --variant new=devcarry/bin/sluice --variant old=devcarry/bin/sluice_prev \\
        --variant nographs=devcarry/bin/sluice:SLUICE_CUDA_GRAPHS=0 [--only NAMES] [--rounds 2]

A variant is NAME=BINARY[:KEY=VALUE,...]. Each round runs every variant on every model
(`sluice run`, greedy, 128 tokens, as bench_gpu.py's decode). With --concurrency N > 1, N
different prompts decode together instead (`sluice run --prompts`, aggregate output tok/s over
the run's wall time, prefill included). Writes DIR/ab_decode.json and prints a table of
per-round tok/s.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench_gpu  # noqa: E402


def parse_variant(spec: str) -> tuple[str, str, dict]:
    name, rest = spec.split("=", 1)
    binary, _, env = rest.partition(":")
    pairs = dict(kv.split("=", 1) for kv in env.split(",") if kv)
    return name, binary, pairs


def run_concurrent(binary: str, env: dict, model: str, conc: int, out: str) -> float:
    """Aggregate output tok/s of `conc` greedy 128-token requests decoding together."""
    prompts = os.path.join(out, f"prompts_{conc}.txt")
    with open(prompts, "w") as f:
        for i in range(conc):
            f.write(f"Request {i}: the quick brown fox jumps over the lazy dog {i} times\n")
    r = subprocess.run([binary, "run", "-m", model, "--device", "cuda", "--prompts", prompts,
                        "--concurrency", str(conc), "-n", "128", "--temp", "0", "--ignore-eos"],
                       capture_output=True, text=True, check=True, env={**os.environ, **env})
    return float(re.search(r"wall: [\d.]+ s, ([\d.]+) tok/s", r.stderr)[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models-dir", default="/tmp/sluice-gpu-models")
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.models_dir, exist_ok=True)
    variants = [parse_variant(v) for v in a.variant]
    models = [m for m in bench_gpu.MODELS if not a.only or m[0] in a.only.split(",")]
    paths = {}
    for name, arch, preset, fmt in models:
        path = os.path.join(a.models_dir, name + (".gguf" if fmt.startswith("gguf") else ""))
        if not os.path.exists(path):
            subprocess.run([variants[0][1], "make-model", "--arch", arch, "--preset", preset,
                            "--format", fmt, "--tokenizer", a.tokenizer, "-o", path], check=True,
                           capture_output=True)
        paths[name] = path
    results = {m: {v[0]: [] for v in variants} for m in paths}
    for rnd in range(a.rounds):
        for m, path in paths.items():
            for vname, binary, env in variants:
                ns = argparse.Namespace(sluice=binary, env=[f"{k}={v}" for k, v in env.items()],
                                        profile="")
                if a.concurrency > 1:
                    tok_s = run_concurrent(binary, env, path, a.concurrency, a.out)
                else:
                    tok_s = bench_gpu.run_one(ns, path, "The quick brown fox", 128, [], vname)["gen_tok_s"]
                results[m][vname].append(tok_s)
                print(json.dumps({"round": rnd, "model": m, "variant": vname,
                                  "gen_tok_s": tok_s}), flush=True)
    with open(os.path.join(a.out, "ab_decode.json"), "w") as f:
        json.dump({"variants": a.variant, "results": results}, f, indent=1)
    print("| model | " + " | ".join(v[0] for v in variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for m, per in results.items():
        cells = [" / ".join(f"{x:.1f}" for x in per[v[0]]) for v in variants]
        print(f"| {m} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
