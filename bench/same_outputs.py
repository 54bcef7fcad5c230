#!/usr/bin/env python3
"""Greedy outputs of two sluice builds, byte for byte, on the bench models (for refactors).

    .venv/bin/python bench/same_outputs.py OLD_BINARY NEW_BINARY [--gen-tokens 48]

Runs the bench_engine.py workload (random-word prompts, greedy, ignore_eos) on SmolLM2 and the
Qwen3-0.6B-shape model at concurrency 1 and 16 with each binary and compares every request's
generated text and token count. Exit status 1 on any difference. The Qwen3-shape model is the
one bench_engine.py makes under --models-dir (made here when missing, with NEW_BINARY).
"""
import argparse
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engine  # noqa: E402
from bench_run import find_smollm2  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--gen-tokens", type=int, default=48)
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--models-dir", default="/tmp/sluice-bench-models")
    a = ap.parse_args()
    qwen = Path(a.models_dir) / "qwen3-0.6b-mlx4"
    if not qwen.exists():
        subprocess.run([str(a.new), "make-model", "--arch", "qwen3", "--preset", "qwen3-0.6b",
                        "--format", "mlx-4", "-o", str(qwen)], check=True, capture_output=True)
    rng = random.Random(0)
    prompts = [bench_engine.words(rng, 48) for _ in range(a.requests)]
    differ = 0
    for name, model in (("smollm2", find_smollm2()), ("qwen3-0.6b", qwen)):
        for c in (1, 16):
            outs = []
            for binary in (a.old, a.new):
                rows, _ = bench_engine.run_prompts(binary, model, prompts, c, a.gen_tokens, [])
                outs.append([(r.get("text"), r.get("output_tokens")) for r in rows])
            same = sum(x == y for x, y in zip(*outs))
            ok = same == len(outs[0]) == len(outs[1])
            differ += not ok
            print(f"{name} c={c}: {same}/{len(outs[0])} requests identical{'' if ok else '  DIFFER'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
