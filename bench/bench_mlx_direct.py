#!/usr/bin/env python3
"""One request, in-process, mlx-lm (MLX's CPU build) vs `sluice run`, on the same weights.

    .venv/bin/python bench/bench_mlx_direct.py [--prompt-tokens 16 128 512] [--gen-tokens 8]

Why: mlx-lm's server does not finish the `bench/peers` cells on this CPU (every mlx-lm cell is
FAILING on its time limit). This measures mlx-lm without HTTP, batching or time limits, so the
table can say how far off it is. Model: SmolLM2-135M-Instruct Q4_1 (sluice reads the GGUF, mlx-lm
its float32 MLX twin made by `bench.peers`, dequantized weights bit-identical). Prompts are a
counting sequence of about --prompt-tokens tokens; both generate --gen-tokens greedy tokens.
Reported: wall seconds of the whole request (prefill + generation, model already loaded for
mlx-lm; sluice's prompt and generation times from its stderr line) and the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from bench_run import find_smollm2, make_prompt, sluice_once  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", default=os.environ.get("SLUICE_BIN", str(REPO / "build/release/sluice")))
    ap.add_argument("--mlx-dir", default="/tmp/sluice-bench-models/SmolLM2-135M-Instruct.Q4_1-mlx-f32",
                    help="the float32 MLX twin written by `python -m bench.peers`")
    ap.add_argument("--prompt-tokens", type=int, nargs="+", default=[16, 128, 512])
    ap.add_argument("--gen-tokens", type=int, default=8)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    if not Path(a.mlx_dir).is_dir():
        sys.exit(f"{a.mlx_dir} missing: run `python -m bench.peers` first (it writes the twin)")
    from mlx_lm import generate, load

    gguf = find_smollm2()
    model, tok = load(a.mlx_dir)
    rows = []
    print("| prompt tokens | mlx-lm s | sluice s | mlx-lm / sluice |\n|---:|---:|---:|---:|")
    for n in a.prompt_tokens:
        prompt, count = make_prompt(gguf, n)
        t = time.perf_counter()
        generate(model, tok, prompt, max_tokens=a.gen_tokens, verbose=False)
        mlx_s = time.perf_counter() - t
        s = sluice_once(Path(a.sluice), gguf, prompt, a.gen_tokens, a.threads)
        sluice_s = s["prompt_tokens"] / s["prompt_tok_s"] + s["gen_tokens"] / s["gen_tok_s"]
        rows.append({"prompt_tokens": count, "gen_tokens": a.gen_tokens, "mlx_lm_s": mlx_s, "sluice_s": sluice_s})
        print(f"| {count} | {mlx_s:.2f} | {sluice_s:.2f} | {mlx_s / sluice_s:.1f}x |", flush=True)
    out = REPO / "bench/results/bench_mlx_direct.json"
    out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
