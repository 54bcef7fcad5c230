#!/usr/bin/env python3
"""Prefill tok/s of one prompt per process (bench_gpu.py's prefill measurement), repeated and
alternated over environments, to tell a change from run-to-run spread.

    python3 bench/gpu/prefill_ab.py --sluice S --model M --words 512 --reps 3 [--env K=V,K=V ...]
"""
import argparse
import os
import random
import re
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--sluice", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--words", type=int, default=512)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--env", action="append", default=[""], help="K=V[,K=V]: one variant each")
a = ap.parse_args()
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
rng = random.Random(a.words)
prompt = " ".join(rng.choice(words) for _ in range(a.words))
for rep in range(a.reps):
    for e in a.env:
        env = dict(os.environ, **dict(kv.split("=", 1) for kv in e.split(",") if kv))
        r = subprocess.run([a.sluice, "run", "-m", a.model, "--device", "cuda", "-p", prompt, "-n", "1",
                            "--temp", "0", "--ignore-eos", "--max-num-batched-tokens", "4096"],
                           capture_output=True, text=True, check=True, env=env)
        m = re.search(r"prompt: (\d+) tokens, ([\d.]+) tok/s", r.stderr)
        print(f"rep {rep} {e or 'as built'}: {m[1]} tokens {m[2]} tok/s", flush=True)
