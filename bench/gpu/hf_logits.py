#!/usr/bin/env python3
"""Last-position logits of a Hugging Face model directory with PyTorch/transformers in float32
(the GPU machine's reference), over exactly the given token ids; raw float32, as `sluice logits`
writes them.

    python3 hf_logits.py MODEL_DIR --tokens "1 2 3" -o OUT.f32
"""
import argparse

import torch
from transformers import AutoModelForCausalLM


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32,
                                                 attn_implementation="eager").to(dev).eval()
    ids = torch.tensor([[int(t) for t in args.tokens.split()]], device=dev)
    with torch.no_grad():
        logits = model(ids).logits[0, -1].float().cpu().numpy()
    logits.tofile(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
