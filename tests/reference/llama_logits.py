#!/usr/bin/env python3
"""Reference: last-position logits of a GGUF model via llama-cpp-python (llama.cpp on the CPU).

    python llama_logits.py MODEL.gguf --tokens "1 2 3" -o OUT.f32 [--threads 2]

Runs the model over exactly those token ids (no BOS added) and writes the logits of the last
position as raw little-endian float32 [n_vocab]. Same interface as `sluice logits`.
"""
import argparse
import sys

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a .gguf file")
    ap.add_argument("--tokens", required=True, help='token ids separated by spaces, e.g. "1 2 3"')
    ap.add_argument("-o", "--output", required=True, help="output file (raw float32 little-endian)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    tokens = [int(t) for t in args.tokens.split()]
    if not tokens:
        print("llama_logits: no tokens", file=sys.stderr)
        return 2

    from llama_cpp import Llama

    n_ctx = max(64, len(tokens) + 8)
    llm = Llama(
        model_path=args.model,
        n_ctx=n_ctx,
        n_batch=n_ctx,
        n_ubatch=n_ctx,
        logits_all=True,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    n_vocab = llm.n_vocab()
    if max(tokens) >= n_vocab or min(tokens) < 0:
        print(f"llama_logits: token id out of range [0, {n_vocab})", file=sys.stderr)
        return 2
    llm.eval(tokens)
    logits = np.asarray(llm.scores[len(tokens) - 1], dtype=np.float32)  # [n_vocab]
    logits.astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
