#!/usr/bin/env python3
"""llama-cpp-python side of bench_run.py: load a GGUF, time prompt processing and greedy generation.

    python llama_cpp_runner.py MODEL.gguf --prompt-file P.txt -n 64 --threads 2

Prints one JSON object on stdout: load_s, prompt_tokens, prompt_s, gen_tokens, decode_steps,
gen_s, baseline_rss_kb (this process's peak RSS before loading the model: Python, numpy,
llama_cpp). The parent measures the process's peak RSS (GNU time).

Prompt: tokenized with BOS as the vocabulary says (llama.cpp's default), evaluated as one batch.
Generation: greedy (argmax of the last logits), stops after N tokens or at an end-of-generation
token. The first generated token comes from the prompt's logits; each later one costs one decode
step, so generation speed = decode_steps / gen_s, as llama.cpp's own "eval time" counts it.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--prompt-file", required=True)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama

    prompt = open(args.prompt_file, encoding="utf-8").read()
    baseline_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    t0 = time.perf_counter()
    llm = Llama(model_path=args.model, n_ctx=1024, n_batch=512, n_ubatch=512, n_threads=args.threads,
                n_threads_batch=args.threads, logits_all=False, verbose=False)
    load_s = time.perf_counter() - t0

    vocab, n_vocab = llm._model.vocab, llm.n_vocab()
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)

    def last_logits():
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,))

    t0 = time.perf_counter()
    llm.eval(ids)
    prompt_s = time.perf_counter() - t0

    generated, steps = [int(np.argmax(last_logits()))], 0
    t0 = time.perf_counter()
    while len(generated) < args.n and not llama_cpp.llama_vocab_is_eog(vocab, generated[-1]):
        llm.eval([generated[-1]])
        steps += 1
        generated.append(int(np.argmax(last_logits())))
    gen_s = time.perf_counter() - t0
    if llama_cpp.llama_vocab_is_eog(vocab, generated[-1]):
        generated.pop()

    json.dump({"load_s": load_s, "prompt_tokens": len(ids), "prompt_s": prompt_s,
               "gen_tokens": len(generated), "decode_steps": steps, "gen_s": gen_s,
               "baseline_rss_kb": baseline_rss_kb,
               "llama_cpp_python": getattr(llama_cpp, "__version__", "?")}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
