"""On the GPU machine: `sluice serve` (CUDA and CPU) on make-model's random BERT directories vs
sentence-transformers' CrossEncoder / SentenceTransformer (PyTorch, float32): rerank scores,
batched == single, and embeddings. Run by bench/gpu/device_rerank.sh; writes $OUT/rerank.json."""
import json
import os
import subprocess
import time
import urllib.request

import numpy as np
import torch
from sentence_transformers import CrossEncoder, SentenceTransformer

OUT, S, TOK = os.environ["OUT"], "devcarry/bin/sluice", "devcarry/tok/tokenizer.json"
QUERY = "How do cats keep themselves clean?"
LONG = " ".join(["Grooming takes up a large part of a cat's day: the rough tongue works as a comb, "
                 "and saliva cools the fur as it evaporates in warm weather."] * 20)
DOCS = ["Cats spend hours licking their fur with their rough tongues.", "Paris is the capital of France.",
        "Crème brûlée, naïve café! 中文 🦙", "The stock market fell sharply on Tuesday.", "A cat", LONG,
        "Dogs need baths; cats mostly clean themselves."]
TEXTS = ["Hello world", "Crème brûlée, naïve café! 中文 🦙", LONG[:900]]


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def serve(model, device, port, *extra):
    p = subprocess.Popen([S, "serve", "-m", model, "--device", device, "--port", str(port), *extra])
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return p
        except Exception:
            time.sleep(0.2)
    raise SystemExit("server did not come up")


def make(out, *a):
    subprocess.run([S, "make-model", "--arch", "bert", "--tokenizer", TOK, "-o", out, *a], check=True)


make("/tmp/ce", "--head", "classification", "--dtype", "F32", "--seed", "7")
make("/tmp/ce_big", "--head", "classification", "--preset", "minilm-l6", "--dtype", "F32", "--seed", "5")
make("/tmp/emb", "--dtype", "F32", "--seed", "3")
report, port = {}, 18800
for name in ("ce", "ce_big"):
    ref = CrossEncoder(f"/tmp/{name}", device="cpu", model_kwargs={"torch_dtype": torch.float32}
                       ).predict([[QUERY, d] for d in DOCS]).tolist()
    for dev, extra in (("cuda", ()), ("cuda", ("--deterministic",)), ("cpu", ())):
        port += 1
        p = serve(f"/tmp/{name}", dev, port, *extra)
        r = post(port, "/v1/rerank", {"query": QUERY, "documents": DOCS})
        got = {x["index"]: x["relevance_score"] for x in r["results"]}
        single = [post(port, "/v1/rerank", {"query": QUERY, "documents": [d]})["results"][0]["relevance_score"]
                  for d in DOCS]
        p.terminate()
        p.wait()
        key = f"{name}/{dev}{''.join(extra)}"
        report[key] = {"max_err_vs_st": max(abs(got[i] - ref[i]) for i in range(len(DOCS))),
                       "batched_eq_single": [got[i] for i in range(len(DOCS))] == single,
                       "max_batched_single_diff": max(abs(got[i] - single[i]) for i in range(len(DOCS)))}
        print(key, report[key], flush=True)
want = SentenceTransformer("/tmp/emb", device="cpu").encode(TEXTS)
for dev in ("cuda", "cpu"):
    port += 1
    p = serve("/tmp/emb", dev, port)
    got = np.array([d["embedding"] for d in post(port, "/v1/embeddings", {"input": TEXTS})["data"]])
    p.terminate()
    p.wait()
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    report[f"emb/{dev}"] = {"min_cos_vs_st": float(cos.min())}
    print(f"emb/{dev}", report[f"emb/{dev}"], flush=True)
json.dump(report, open(f"{OUT}/rerank.json", "w"), indent=1)
