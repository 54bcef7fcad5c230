#!/usr/bin/env python3
"""Reference: greedy generation with llama-cpp-python, printed exactly as `sluice run --temp 0`.

    python llama_greedy.py MODEL.gguf -p PROMPT [-n 32] [--threads 2]

The prompt is tokenized as llama.cpp does by default (`llama_tokenize(add_special=true,
parse_special=false)`: BOS only when the vocabulary says add_bos). Each step takes the argmax of
the last logits (temperature 0 / top-k 1); generation stops after N tokens or at an end-of-
generation token (`llama_vocab_is_eog`: EOS, EOT, ...), which is not printed. The generated ids are
detokenized as a whole (control tokens render as nothing) and written to stdout with no newline.
"""
import argparse
import ctypes
import sys

import numpy as np


def token_piece(llama_cpp, vocab, token: int) -> bytes:
    size = 64
    while True:
        buf = (ctypes.c_char * size)()
        n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(token), buf, size, 0, False)
        if n >= 0:
            return bytes(buf[:n])
        size = -n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a .gguf file")
    ap.add_argument("-p", "--prompt", required=True)
    ap.add_argument("-n", type=int, default=32, help="max tokens to generate")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ids", action="store_true",
                    help="also print on stderr: prompt ids, generated ids and each step's top-2 logit margin")
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=args.model, n_ctx=2048, n_threads=args.threads,
                n_threads_batch=args.threads, logits_all=False, verbose=False)
    vocab = llm._model.vocab
    prompt_ids = llm.tokenize(args.prompt.encode("utf-8"), add_bos=True, special=False)

    # Greedy: argmax over the last position's logits, one token at a time through the KV cache.
    generated, margins = [], []
    llm.eval(prompt_ids)
    for _ in range(args.n):
        logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
        tok = int(np.argmax(logits))
        top2 = np.partition(logits, -2)[-2:]
        margins.append(float(top2[1] - top2[0]))
        if llama_cpp.llama_vocab_is_eog(vocab, tok):
            break
        generated.append(tok)
        llm.eval([tok])

    text = b"".join(token_piece(llama_cpp, vocab, t) for t in generated)
    if args.ids:
        print(f"prompt ids: {prompt_ids}\ngenerated ids: {generated}\n"
              f"top-2 margins: {[round(m, 4) for m in margins]}", file=sys.stderr)
    sys.stdout.write(text.decode("utf-8", errors="replace"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
