#!/usr/bin/env python3
"""Embeddings benchmark: `sluice serve` vs llama.cpp's `llama-server --embeddings` on the same BERT
model (the HF directory for sluice, its GGUF conversion for llama.cpp), same machine, same run.

    .venv/bin/python bench/embeddings/bench_embeddings.py --rounds 3       # both servers
    .venv/bin/python bench/embeddings/bench_embeddings.py --check          # correctness only

Workloads over `POST /v1/embeddings` (OpenAI shape), on a fixed corpus of sentences of 10..120
tokens (corpus.py):
- batch 1: one input per request, requests one after another;
- batch 64: one request of 64 inputs, requests one after another;
- concurrent 64 (`--concurrent`): 64 single-input requests in flight at once.
Warm-up requests are excluded. Each round starts both servers in turn (the order alternates round
by round) and runs every workload; the table gives medians over rounds and the sluice / llama.cpp
ratios (the issue's target: >= 1.5x at batch 64). Every round also checks each server's
embeddings against a float64 NumPy forward (bert_reference.py), batch-64 results against batch-1
ones, and its usage.prompt_tokens against the tokenizer; a server that fails is FAILING, not fast.
JSON: bench/results/embeddings/bench.json (check.json for --check).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.peers.servers import Server, sluice_version  # noqa: E402
from bert_reference import BertReference, cosine  # noqa: E402
from corpus import sentences  # noqa: E402
from hf_bert_to_gguf import convert  # noqa: E402

BATCH = 64
COS_MIN = 0.9999
CHECK_TEXTS = [
    "A man is eating food.",
    "Hello, world! Unbelievable tokenization of UPPER-case words.",
    "The quick brown fox jumps over the lazy dog; 3.14159 is pi, and 1,000,000 is a million.",
    "Embeddings map sentences to vectors: similar meanings land close together in the space, "
    "which makes semantic search, clustering and retrieval-augmented generation possible.",
    "Café naïve résumé — ünïcödé accents (stripped by the BERT normalizer).",
]


def default_llama_server() -> Path:
    """bench/peers/build_llama_cpp.sh's build: build/llama.cpp/<pinned version>/build-cpu/bin."""
    pins = (REPO / "requirements.txt").read_text().splitlines()
    version = next((ln.split("==", 1)[1] for ln in pins if ln.startswith("llama-cpp-python==")), "?")
    return REPO / "build/llama.cpp" / version / "build-cpu/bin/llama-server"


class LlamaEmbedServer(Server):
    """llama-server in embedding mode. Flags and why:
    --embeddings --pooling mean: the embedding endpoint, with the model's own pooling (mean);
    -t N -tb N: all cores, for single-token and batch work alike (an encoder only does batch work);
    -np 64: 64 slots, so each input of a 64-input request gets a slot and all run in one batch;
    -c 512*64: each slot's context (-c / -np) is the model's 512 positions;
    -b U -ub U: an encoder's batch must fit one micro-batch (the server sets -b = -ub for
      embeddings); U = --llama-ubatch tokens per forward (8192: all 64 inputs, ~4.2k tokens, in one);
    --no-webui: nothing but the API."""
    name = "llama.cpp"

    def __init__(self, binary: Path, ubatch: int, *a, **kw):
        super().__init__(*a, **kw)
        self.binary, self.ubatch = binary, ubatch

    def command(self, model: Path) -> list[str]:
        self.settings = {"threads": self.threads, "threads_batch": self.threads, "parallel_slots": self.max_seqs,
                         "ctx_per_slot": self.ctx, "batch": self.ubatch, "ubatch": self.ubatch, "pooling": "mean"}
        return [str(self.binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                "--embeddings", "--pooling", "mean", "-t", str(self.threads), "-tb", str(self.threads),
                "-np", str(self.max_seqs), "-c", str(self.ctx * self.max_seqs),
                "-b", str(self.ubatch), "-ub", str(self.ubatch), "--no-webui"]

    def ready_path(self) -> str:
        return "/health"


class SluiceEmbedServer(Server):
    """`sluice serve -m MODEL_DIR`: all cores, 64 sequences at once, and room for 64 inputs of up to
    128 tokens in one scheduler step."""
    name = "sluice"

    def __init__(self, binary: Path, extra: list[str], *a, **kw):
        super().__init__(*a, **kw)
        self.binary, self.extra = binary, extra

    def command(self, model: Path) -> list[str]:
        self.settings = {"threads": self.threads, "max_num_seqs": self.max_seqs,
                         "max_num_batched_tokens": self.ctx * self.max_seqs, "extra_flags": self.extra}
        return [str(self.binary), "serve", "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                "--threads", str(self.threads), "--max-num-seqs", str(self.max_seqs),
                "--max-num-batched-tokens", str(self.ctx * self.max_seqs), *self.extra]

    def ready_path(self) -> str:
        return "/health"


def embed(base_url: str, texts: list[str], timeout: float = 600) -> tuple[list[list[float]], int | None]:
    """One POST /v1/embeddings on a fresh connection: the embeddings in input order, prompt tokens."""
    body = json.dumps({"model": "default", "input": texts, "encoding_format": "float"}).encode()
    req = urllib.request.Request(base_url + "/v1/embeddings", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        d = json.loads(r.read())
    data = sorted(d["data"], key=lambda x: x["index"])
    if [x["index"] for x in data] != list(range(len(texts))):
        raise ValueError(f"indices {[x['index'] for x in data]} for {len(texts)} inputs")
    return [x["embedding"] for x in data], (d.get("usage") or {}).get("prompt_tokens")


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_workloads(srv: Server, corpus: list[str], ntok: list[int], a) -> dict:
    """Warm-up, then each workload once; returns rates, the outputs the checks need and problems."""
    url = srv.base_url
    for t in corpus[:4]:
        embed(url, [t])
    embed(url, corpus[:BATCH])
    res: dict = {"problems": []}
    n1 = min(a.b1_requests, len(corpus))
    wall, outs = timed(lambda: [embed(url, [t]) for t in corpus[:n1]])
    res["batch1"] = {"inputs": n1, "wall_s": wall, "emb_s": n1 / wall, "tok_s": sum(ntok[:n1]) / wall,
                     "prompt_tokens": sum(o[1] or 0 for o in outs)}
    single = [o[0][0] for o in outs]
    chunks = [list(range(i, i + BATCH)) for i in range(0, a.b64_requests * BATCH, BATCH)]
    wall, outs = timed(lambda: [embed(url, [corpus[j] for j in c]) for c in chunks])
    n = len(chunks) * BATCH
    res["batch64"] = {"inputs": n, "wall_s": wall, "emb_s": n / wall, "tok_s": sum(ntok[:n]) / wall,
                      "prompt_tokens": sum(o[1] or 0 for o in outs)}
    batched = [e for o in outs for e in o[0]]
    if a.concurrent:
        with cf.ThreadPoolExecutor(BATCH) as pool:
            wall, outs = timed(lambda: list(pool.map(lambda t: embed(url, [t]), corpus[:n])))
        res["concurrent64"] = {"inputs": n, "wall_s": wall, "emb_s": n / wall, "tok_s": sum(ntok[:n]) / wall,
                               "prompt_tokens": sum(o[1] or 0 for o in outs)}
    for w in ("batch1", "batch64", "concurrent64"):
        if w in res and res[w]["prompt_tokens"] != sum(ntok[:res[w]["inputs"]]):
            res["problems"].append(f"{w}: usage.prompt_tokens {res[w]['prompt_tokens']}, "
                                   f"tokenizer {sum(ntok[:res[w]['inputs']])}")
    res["single"], res["batched"] = single, batched
    return res


def check_outputs(res: dict, ref: dict[int, list[float]]) -> None:
    """Reference cosines of the batched outputs; batched vs single for the first batch-1 inputs."""
    cos_ref = {i: cosine(res["batched"][i], e) for i, e in ref.items()}
    cos_bs = [cosine(res["single"][i], res["batched"][i]) for i in range(min(len(res["single"]), len(res["batched"])))]
    res["min_cos_reference"], res["min_cos_batched_vs_single"] = min(cos_ref.values()), min(cos_bs)
    if res["min_cos_reference"] < COS_MIN:
        res["problems"].append(f"cosine to the reference {res['min_cos_reference']:.6f} < {COS_MIN}")
    if res["min_cos_batched_vs_single"] < COS_MIN:
        res["problems"].append(f"batched vs single cosine {res['min_cos_batched_vs_single']:.6f} < {COS_MIN}")
    del res["single"], res["batched"]


def make_server(name: str, a, log_dir: Path) -> tuple[Server, Path]:
    if name == "llama.cpp":
        return LlamaEmbedServer(a.llama_server, a.llama_ubatch, log_dir, a.threads, 512, BATCH), a.gguf
    return SluiceEmbedServer(a.sluice_bin, shlex.split(a.sluice_flags), log_dir, a.threads, 128, BATCH), a.model_dir


def machine_facts() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    cpu = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name:")), "?")
    return {"cpu": cpu, "cpus": os.cpu_count(), "avx512": "avx512f" in lscpu, "os": platform.platform()}


def check_mode(a, ref_model: BertReference, log_dir: Path) -> int:
    """Tokenization (llama-server's /tokenize) and embeddings of CHECK_TEXTS and a 120-token corpus
    sentence against the reference; batched (one request) against single."""
    texts = CHECK_TEXTS + [sentences(lambda t: len(ref_model.token_ids(t)), 2, lo=120, hi=126, seed=a.seed)[0]]
    want = [ref_model.embed(t) for t in texts]
    out: dict = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "texts": texts,
                 "gguf": str(a.gguf), "outtype": a.outtype, "servers": {}}
    ok = True
    for name in a.servers:
        srv, model = make_server(name, a, log_dir)
        srv.start(model)
        try:
            got, _ = embed(srv.base_url, texts)
            single = [embed(srv.base_url, [t])[0][0] for t in texts]
            r = {"cos_reference": [cosine(g, w) for g, w in zip(got, want)],
                 "cos_batched_vs_single": [cosine(g, s) for g, s in zip(got, single)]}
            if name == "llama.cpp":
                r["same_token_ids"] = []
                for t in texts:
                    body = json.dumps({"content": t, "add_special": True}).encode()
                    with urllib.request.urlopen(urllib.request.Request(srv.base_url + "/tokenize", data=body)) as h:
                        r["same_token_ids"].append(json.loads(h.read())["tokens"] == ref_model.token_ids(t))
        finally:
            srv.stop()
        good = min(r["cos_reference"] + r["cos_batched_vs_single"]) >= COS_MIN and all(r.get("same_token_ids", [True]))
        ok &= good
        out["servers"][name] = r
        print(f"{name}: {'OK' if good else 'FAILING'}")
        for i, t in enumerate(texts):
            ids = "" if "same_token_ids" not in r else f"  same ids: {r['same_token_ids'][i]}"
            print(f"  cos {r['cos_reference'][i]:.7f}  batched/single {r['cos_batched_vs_single'][i]:.7f}{ids}"
                  f"  ({len(ref_model.token_ids(t))} tok) {t[:50]!r}")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "check.json").write_text(json.dumps(out, indent=1))
    return 0 if ok else 1


def table(result: dict) -> str:
    names = result["servers"]
    rounds = result["rounds"]
    lines = ["| workload | " + " | ".join(f"{n} emb/s | {n} tok/s" for n in names)
             + " | sluice / llama.cpp (median) | per round |",
             "| --- |" + " --- | --- |" * len(names) + " --- | --- |"]
    for w in ("batch1", "batch64", "concurrent64"):
        if not all(w in rnd[n] for rnd in rounds for n in names if "error" not in rnd[n]):
            continue
        cells, med = [], {}
        for n in names:
            vals = [rnd[n][w] for rnd in rounds if w in rnd[n] and not rnd[n]["problems"]]
            if not vals:
                cells += ["FAILING", "FAILING"]
                continue
            med[n] = statistics.median(v["emb_s"] for v in vals)
            cells += [f"{med[n]:,.1f}", f"{statistics.median(v['tok_s'] for v in vals):,.0f}"]
        ratio, per = "n/a", "n/a"
        if "sluice" in med and "llama.cpp" in med:
            ratio = f"{med['sluice'] / med['llama.cpp']:.2f}x"
            per = ", ".join(f"{r['sluice'][w]['emb_s'] / r['llama.cpp'][w]['emb_s']:.2f}" for r in rounds
                            if w in r.get("sluice", {}) and w in r.get("llama.cpp", {}))
        lines.append(f"| {w} | " + " | ".join(cells) + f" | {ratio} | {per} |")
    return "\n".join(lines)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", type=Path, default=REPO / "models/all-minilm-l6-v2")
    ap.add_argument("--gguf", type=Path, default=None,
                    help="llama.cpp's model (default: converted once to /tmp/sluice-bench-models/NAME-OUTTYPE.gguf)")
    ap.add_argument("--outtype", choices=("f32", "f16"), default="f32",
                    help="GGUF weights (f32: the checkpoint's own precision, as sluice computes it)")
    ap.add_argument("--servers", nargs="+", choices=("sluice", "llama.cpp"), default=["sluice", "llama.cpp"])
    ap.add_argument("--sluice-bin", type=Path, default=Path(os.environ.get("SLUICE_BIN", REPO / "build/release/sluice")))
    ap.add_argument("--sluice-flags", default="", help="extra `sluice serve` flags")
    ap.add_argument("--llama-server", type=Path, default=default_llama_server())
    ap.add_argument("--llama-ubatch", type=int, default=8192, help="llama-server -b/-ub (tokens per forward)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--b1-requests", type=int, default=64, help="timed batch-1 requests per round")
    ap.add_argument("--b64-requests", type=int, default=4, help="timed 64-input requests per round")
    ap.add_argument("--concurrent", action="store_true", help="also 64 concurrent single-input requests")
    ap.add_argument("--check", action="store_true", help="only the correctness check (cosines, token ids)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/embeddings")
    ap.add_argument("--log-dir", type=Path, default=Path("/tmp/sluice-embeddings-logs"))
    a = ap.parse_args(argv)
    if a.gguf is None:
        a.gguf = Path("/tmp/sluice-bench-models") / f"{a.model_dir.name}-{a.outtype}.gguf"
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    if "llama.cpp" in a.servers:
        if not a.llama_server.exists():
            sys.exit(f"no llama-server at {a.llama_server} (bench/peers/build_llama_cpp.sh, or --llama-server)")
        if not a.gguf.exists():
            a.gguf.parent.mkdir(parents=True, exist_ok=True)
            convert(a.model_dir, a.gguf, a.outtype)
    if "sluice" in a.servers and not a.sluice_bin.exists():
        sys.exit(f"no sluice binary at {a.sluice_bin} (build it, or pass --sluice-bin)")
    if (load := os.getloadavg()[0]) > 0.5:
        print(f"warning: load average {load:.2f}: other processes share the cores", file=sys.stderr)
    ref_model = BertReference(a.model_dir)
    if a.check:
        return check_mode(a, ref_model, a.log_dir)

    ntok_of = lambda t: len(ref_model.token_ids(t))  # noqa: E731
    corpus = sentences(ntok_of, max(a.b1_requests, a.b64_requests * BATCH), seed=a.seed)
    ntok = [ntok_of(t) for t in corpus]
    ref = {i: ref_model.embed(corpus[i]).tolist() for i in range(4)}
    result: dict = {
        "command": shlex.join([sys.executable.replace(str(REPO) + "/", ""), *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine_facts(),
        "load_avg_at_start": os.getloadavg(), "model_dir": str(a.model_dir), "gguf": str(a.gguf),
        "outtype": a.outtype, "threads": a.threads, "corpus": {"texts": len(corpus), "tokens_min": min(ntok),
        "tokens_max": max(ntok), "tokens_mean": sum(ntok) / len(ntok), "seed": a.seed},
        "versions": {"sluice": sluice_version(a.sluice_bin) if "sluice" in a.servers else None,
                     "llama.cpp": str(a.llama_server)},
        "servers": a.servers, "rounds": [], "settings": {}, "commands": {},
    }
    for r in range(a.rounds):
        order = a.servers if r % 2 == 0 else a.servers[::-1]
        rnd = {}
        for name in order:
            srv, model = make_server(name, a, a.log_dir)
            try:
                srv.start(model)
                res = run_workloads(srv, corpus, ntok, a)
                check_outputs(res, ref)
            except Exception as e:  # noqa: BLE001
                res = {"error": f"{type(e).__name__}: {e}", "problems": [f"{type(e).__name__}: {e}"]}
            finally:
                srv.stop()
            res["peak_rss_mib"], res["startup_s"] = srv.peak_rss_mib, srv.startup_s
            result["settings"][name], result["commands"][name] = srv.settings, shlex.join(srv.cmd)
            rnd[name] = res
            print(f"round {r + 1} {name}: " + (", ".join(f"{w} {res[w]['emb_s']:.1f} emb/s" for w in
                  ("batch1", "batch64", "concurrent64") if w in res) or "") +
                  (f"  PROBLEMS: {res['problems']}" if res["problems"] else ""), file=sys.stderr)
        result["rounds"].append({n: rnd[n] for n in a.servers})
    text = table(result)
    result["table"] = text
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bench.json").write_text(json.dumps(result, indent=1, default=str))
    print(text)
    print(f"\nraw numbers in {a.out / 'bench.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
