#!/usr/bin/env python3
"""Reference: last-position logits of an HF safetensors or MLX-quantized model dir via mlx-lm.

    python mlx_logits.py MODEL_DIR --tokens "1 2 3" -o OUT.f32 [--dtype float32] [--float32-out OUT2.f32] [--hidden]

Loads the model with `mlx_lm.utils.load_model` on MLX's CPU device, runs it over exactly those
token ids (no BOS added) in the model's own dtype, as mlx-lm does (bf16 weights -> bf16 compute;
quantized layers dequantize per their scales' dtype), and writes the last position's logits cast to
float32 as raw little-endian float32 [vocab_size]. Same interface as `sluice logits`.
`--dtype float32` upcasts every floating parameter (weights, quantization scales and biases; all
exactly representable) so the same model runs with float32 activations: the "exact" result that
bf16 compute deviates from by up to ~1e-2 on random models. `--float32-out` writes that result too,
from the same process (one load). `--hidden` writes the last position's final-norm hidden state
[hidden] (mlx-lm's `model.model(...)`, before the vocabulary projection) instead of the logits.
"""
import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="model directory (config.json + *.safetensors)")
    ap.add_argument("--tokens", required=True, help='token ids separated by spaces, e.g. "1 2 3"')
    ap.add_argument("-o", "--output", required=True, help="output file (raw float32 little-endian)")
    ap.add_argument("--dtype", choices=["native", "float32"], default="native")
    ap.add_argument("--float32-out", help="also write the float32-activation logits here")
    ap.add_argument("--hidden", action="store_true", help="the final-norm hidden state, not logits")
    args = ap.parse_args()

    tokens = [int(t) for t in args.tokens.split()]
    if not tokens:
        print("mlx_logits: no tokens", file=sys.stderr)
        return 2

    import mlx.core as mx
    from mlx.utils import tree_map
    from mlx_lm.utils import load_model

    mx.set_default_device(mx.cpu)
    model, _config = load_model(Path(args.model))

    def upcast():
        model.update(tree_map(
            lambda p: p.astype(mx.float32) if mx.issubdtype(p.dtype, mx.floating) else p,
            model.parameters()))

    def last_logits():
        run = model.model if args.hidden else model  # [1, num_tokens, hidden or vocab]
        logits = run(mx.array([tokens], dtype=mx.int32))
        last = logits[0, -1].astype(mx.float32)  # [vocab]
        mx.eval(last)
        return np.asarray(last, dtype="<f4")

    if args.dtype == "float32":
        upcast()
    last_logits().tofile(args.output)
    if args.float32_out:
        upcast()
        last_logits().tofile(args.float32_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
