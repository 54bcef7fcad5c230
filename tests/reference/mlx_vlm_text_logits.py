#!/usr/bin/env python3
"""Reference: last-position logits of an mlx-vlm VLM directory's language model, via mlx-vlm.

    python mlx_vlm_text_logits.py MODEL_DIR --tokens "1 2 3" -o OUT.f32

Loads the directory with `mlx_vlm.utils.load_model` (strict=False: a directory written without
its vision tower has none) on MLX's CPU device, upcasts every floating parameter (quantization
scales and biases included) to float32 so activations are float32 too, runs the language model
over exactly those token ids (text only: every M-RoPE plane at the same position) and writes the
last position's logits as raw little-endian float32 [vocab_size]. Same interface as
`sluice logits`.
"""
import argparse
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="mlx-vlm model directory")
    ap.add_argument("--tokens", required=True, help='token ids separated by spaces, e.g. "1 2 3"')
    ap.add_argument("-o", "--output", required=True, help="output file (raw float32 little-endian)")
    args = ap.parse_args()

    import mlx.core as mx
    from mlx_vlm.utils import load_model

    mx.set_default_device(mx.cpu)
    model = load_model(Path(args.model), strict=False)
    model.set_dtype(mx.float32)
    out = model.language_model(mx.array([[int(t) for t in args.tokens.split()]], dtype=mx.int32))
    last = out.logits[0, -1].astype(mx.float32)  # [vocab]
    mx.eval(last)
    np.asarray(last, dtype="<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
