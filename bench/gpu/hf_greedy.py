#!/usr/bin/env python3
"""Greedy text of a Hugging Face model directory with PyTorch/transformers (the GPU machine's
reference): float32, eager attention, one JSON line {"text": ...} per prompt, as `sluice run
--prompts` writes them, so the two files compare line by line.

    python3 hf_greedy.py MODEL_DIR --prompts FILE -n 48 -o OUT.jsonl
"""
import argparse
import json

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("-n", type=int, default=48)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    tok = Tokenizer.from_file(f"{args.model}/tokenizer.json")
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32,
                                                 attn_implementation="eager").to(dev).eval()
    with open(args.prompts, encoding="utf-8") as f, open(args.out, "w", encoding="utf-8") as out:
        for line in f:
            ids = tok.encode(line.rstrip("\n"), add_special_tokens=False).ids
            x = torch.tensor([ids], device=dev)
            with torch.no_grad():
                y = model.generate(x, max_new_tokens=args.n, do_sample=False, min_new_tokens=args.n,
                                   pad_token_id=0, eos_token_id=None)
            text = tok.decode(y[0, len(ids):].tolist(), skip_special_tokens=False)
            out.write(json.dumps({"text": text}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
