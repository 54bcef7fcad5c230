#!/usr/bin/env python3
"""GPU benchmark of sluice's CUDA backend on the H100 (issue 8), in one run on the GPU machine.

    python3 bench/gpu/bench_gpu.py --sluice devcarry/bin/sluice --tokenizer T --out DIR

Models (random weights, `sluice make-model`): Llama-3-8B shape in BF16 (safetensors) and 4-bit
(GGUF Q4_0, repacked to sluice's Q4G32 at load), and a Qwen3-0.6B shape in BF16. For each:
  * single-stream decode tok/s (`sluice run`, greedy, 128 tokens) and its share of the roofline
    (measured read bandwidth / bytes read per token = weights less the embedding table);
  * prefill tok/s of one 512- and one 2048-token prompt;
  * serving: `sluice serve --device cuda`, random 1024-token prompts, 128 output tokens
    (ignore_eos), streamed; concurrency 1/16/64/256; TTFT / TPOT percentiles, output tok/s.
The read bandwidth is measured here too (PyTorch: a sum over an 8 GiB tensor). Writes
DIR/bench_gpu.json and a Markdown table DIR/bench_gpu.md (also printed).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import aiohttp  # noqa: E402

from bench.peers.client import RequestResult, stream_request  # noqa: E402
from bench.peers.stats import summarize  # noqa: E402

MODELS = [  # name, arch, preset, format
    ("qwen3-0.6b-bf16", "qwen3", "qwen3-0.6b", "safetensors-bf16"),
    ("llama3-8b-q4_0", "llama", "llama3-8b", "gguf-q4_0"),
    ("llama3-8b-bf16", "llama", "llama3-8b", "safetensors-bf16"),
]


def read_bandwidth_gbs() -> float:
    import torch
    x = torch.empty(4 << 30, dtype=torch.bfloat16, device="cuda").uniform_()
    for _ in range(3):
        x.sum()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(10):
        start.record()
        x.sum()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    times.sort()
    bw = x.numel() * 2 / times[len(times) // 2] / 1e9
    del x
    torch.cuda.empty_cache()
    return bw


def model_bytes(path: str) -> tuple[int, int]:
    """(all tensor bytes, bytes of the embedding table) read from the model files."""
    if os.path.isdir(path):
        from safetensors import safe_open
        total = embed = 0
        for f in os.listdir(path):
            if f.endswith(".safetensors"):
                with safe_open(os.path.join(path, f), "np") as st:
                    for k in st.keys():
                        sl = st.get_slice(k)
                        n = 1
                        for d in sl.get_shape():
                            n *= d
                        b = n * {"BF16": 2, "F16": 2, "F32": 4}.get(sl.get_dtype(), 1)
                        total += b
                        if "embed_tokens" in k:
                            embed += b
        return total, embed
    size = os.path.getsize(path)
    return size, 0  # GGUF: filled in by the caller from the shape


def profile_env(a, tag: str) -> dict:
    """The environment of every sluice process: --env pairs, and with --profile SLUICE_PROFILE
    pointing at DIR/profile-<tag>.txt (GPU time per op)."""
    env = dict(os.environ, **dict(kv.split("=", 1) for kv in a.env))
    if a.profile:
        env["SLUICE_PROFILE"] = os.path.join(a.profile, f"profile-{tag}.txt")
    return env


def run_one(a, model: str, prompt: str, n: int, extra: list[str], tag: str = "run") -> dict:
    r = subprocess.run([a.sluice, "run", "-m", model, "--device", "cuda", "-p", prompt, "-n", str(n),
                        "--temp", str(getattr(a, "temperature", 0.0)),
                        "--top-p", str(getattr(a, "top_p", 1.0)), "--seed", "1",
                        "--ignore-eos", "--max-num-batched-tokens", "4096"] + extra,
                       capture_output=True, text=True, check=True, env=profile_env(a, tag))
    m = re.search(r"prompt: (\d+) tokens, ([\d.]+) tok/s; generation: (\d+) tokens, ([\d.]+) tok/s; "
                  r"load: ([\d.]+) s", r.stderr)
    return {"prompt_tokens": int(m[1]), "prompt_tok_s": float(m[2]), "gen_tokens": int(m[3]),
            "gen_tok_s": float(m[4]), "load_s": float(m[5])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve_level(a, url: str, conc: int, num: int, vocab: int, in_len: int) -> dict:
    out_len = a.out_len
    rng = random.Random(conc)
    prompts = [[rng.randrange(100, vocab - 100) for _ in range(in_len)] for _ in range(num)]
    results = [RequestResult() for _ in range(num)]
    sem = asyncio.Semaphore(conc)
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def one(i: int):
            async with sem:
                body = {"model": "m", "prompt": prompts[i], "max_tokens": out_len, "ignore_eos": True,
                        "temperature": a.temperature, "top_p": a.top_p, "seed": i,
                        "stream": True, "stream_options": {"include_usage": True}}
                await stream_request(session, url, body, 1800, results[i])
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(num)))
        wall = time.perf_counter() - t0
    bad = [r.error for r in results if not r.ok]
    s = summarize(results, wall, None, bad)
    s.pop("raw", None)
    s["concurrency"] = conc
    s["in_len"] = in_len
    s["decode_phase_tok_s"] = decode_phase_tok_s(results)
    return s


def decode_phase_tok_s(results: list[RequestResult]) -> float | None:
    """Output tok/s while every request is decoding: from the last first token to the first
    finish (what llama-batched-bench's S_TG measures: no prefill inside). Streamed chunks are
    scaled to tokens by each request's usage count."""
    ok = [r for r in results if r.ok and r.itl]
    if len(ok) < 2:
        return None
    lo = max(r.t_send + r.ttft for r in ok)
    hi = min(r.t_send + r.e2e for r in ok)
    if hi - lo < 0.05:
        return None
    tokens = 0.0
    for r in ok:
        t = r.t_send + r.ttft
        per_chunk = r.output_tokens / r.num_chunks if r.num_chunks else 1.0
        for gap in r.itl:
            t += gap
            if lo < t <= hi:
                tokens += per_chunk
    return tokens / (hi - lo)


def serving(a, model: str, vocab: int, levels: list[int]) -> list[dict]:
    port = free_port()
    log = open(os.path.join(a.out, "serve.log"), "a")
    proc = subprocess.Popen([a.sluice, "serve", "-m", model, "--device", "cuda", "--port", str(port),
                             "--max-num-seqs", "256", "--max-num-batched-tokens", "4096"],
                            stdout=log, stderr=log, env=profile_env(a, os.path.basename(model) + "-serve"))
    try:
        import urllib.request
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except Exception:
                if proc.poll() is not None:
                    raise RuntimeError("sluice serve exited")
                time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/v1/completions"
        out = []
        runs = [(c, max(4, c) if c < 64 else c, a.in_len) for c in levels]
        if a.batched_decode:  # llama-batched-bench's shape: N sequences at once, 512 in / 128 out
            runs.append((a.batched_decode, a.batched_decode, 512))
        for c, num, in_len in runs:
            s = asyncio.run(serve_level(a, url, c, num, vocab, in_len))
            print(json.dumps({k: s[k] for k in ("concurrency", "in_len", "status", "output_tok_s",
                                                "decode_phase_tok_s", "ttft_s", "tpot_s")}), flush=True)
            out.append(s)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models-dir", default="/tmp/sluice-gpu-models")
    ap.add_argument("--levels", default="1,16,64,256")
    ap.add_argument("--in-len", type=int, default=1024)
    ap.add_argument("--out-len", type=int, default=128)
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--profile", default="", help="DIR: write SLUICE_PROFILE tables there")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="set for every sluice process (A/B switches such as "
                         "SLUICE_CUDA_ATTENTION_TILES=0)")
    ap.add_argument("--skip-decode", action="store_true", help="prefill and serving only")
    ap.add_argument("--skip-prefill", action="store_true", help="no prefill runs")
    ap.add_argument("--temperature", type=float, default=0.0, help="of every request (0: greedy)")
    ap.add_argument("--top-p", type=float, default=1.0, help="of every request")
    ap.add_argument("--batched-decode", type=int, default=64,
                    help="one more level: this many 512-token prompts at once (0: none)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.models_dir, exist_ok=True)
    if a.profile:
        os.makedirs(a.profile, exist_ok=True)
    report = {"gpu": subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                     "--format=csv,noheader"], capture_output=True, text=True).stdout.strip(),
              "read_bandwidth_GBs": read_bandwidth_gbs(), "models": []}
    print(json.dumps({"gpu": report["gpu"], "read_bandwidth_GBs": report["read_bandwidth_GBs"]}), flush=True)
    levels = [int(x) for x in a.levels.split(",") if x]
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    for name, arch, preset, fmt in MODELS:
        if a.only and name not in a.only.split(","):
            continue
        path = os.path.join(a.models_dir, name + (".gguf" if fmt.startswith("gguf") else ""))
        t0 = time.time()
        if not os.path.exists(path):
            subprocess.run([a.sluice, "make-model", "--arch", arch, "--preset", preset, "--format", fmt,
                            "--tokenizer", a.tokenizer, "-o", path], check=True, capture_output=True)
        row = {"model": name, "make_s": time.time() - t0}
        total, embed = model_bytes(path)
        with open(a.tokenizer) as f:
            vocab = len(json.load(f)["model"]["vocab"])
        if not os.path.isdir(path):  # GGUF Q4_0: the embedding is 18 bytes per 32 values
            hidden = 4096
            embed = vocab * hidden // 32 * 18
        row["bytes_per_token"] = total - embed
        try:
            if not a.skip_decode:
                dec = run_one(a, path, "The quick brown fox", 128, [], name + "-decode")
                row["decode"] = dec
                row["decode_roofline_tok_s"] = report["read_bandwidth_GBs"] * 1e9 / row["bytes_per_token"]
                row["decode_fraction_of_roofline"] = dec["gen_tok_s"] / row["decode_roofline_tok_s"]
            for n in () if a.skip_prefill else (512, 2048):
                rng = random.Random(n)
                prompt = " ".join(rng.choice(words) for _ in range(n))  # ~1 token per word
                row[f"prefill_{n}"] = run_one(a, path, prompt, 1, [], f"{name}-prefill{n}")
            row["serving"] = serving(a, path, vocab, levels)
        except Exception as e:  # keep the other models' numbers
            row["error"] = repr(e)[-2000:]
        print(json.dumps({k: v for k, v in row.items() if k != "serving"}), flush=True)
        report["models"].append(row)
        with open(os.path.join(a.out, "bench_gpu.json"), "w") as f:
            json.dump(report, f, indent=1)
    md = markdown(report)
    with open(os.path.join(a.out, "bench_gpu.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


def markdown(rep: dict) -> str:
    L = [f"GPU: {rep['gpu']}; measured read bandwidth {rep['read_bandwidth_GBs']:.0f} GB/s", "",
         "| model | decode tok/s (1 stream) | roofline tok/s | share | prefill 512 tok/s | prefill 2048 tok/s |",
         "|---|---|---|---|---|---|"]
    for m in rep["models"]:
        if "error" in m:
            L.append(f"| {m['model']} | error: {m.get('error', '')[:80]} | | | | |")
            continue
        dec = (f"{m['decode']['gen_tok_s']:.1f} | {m['decode_roofline_tok_s']:.0f} | "
               f"{100 * m['decode_fraction_of_roofline']:.0f}%") if "decode" in m else "- | - | -"
        L.append(f"| {m['model']} | {dec} | "
                 f"{m.get('prefill_512', {}).get('prompt_tok_s', float('nan')):.0f} | "
                 f"{m.get('prefill_2048', {}).get('prompt_tok_s', float('nan')):.0f} |")
    L += ["", "| model | concurrency | prompt | output tok/s | decode-phase tok/s | TTFT p50 / p99 ms | "
          "TPOT p50 / p99 ms | status |", "|---|---|---|---|---|---|---|---|"]
    for m in rep["models"]:
        for s in m.get("serving", []):
            ms = lambda d, k: f"{1e3 * d[k]:.0f}" if d.get(k) is not None else "-"
            dp = s.get("decode_phase_tok_s")
            dps = f"{dp:.0f}" if dp else "-"
            L.append(f"| {m['model']} | {s['concurrency']} | {s.get('in_len', '')} | {s['output_tok_s'] or 0:.0f} | "
                     f"{dps} | {ms(s['ttft_s'], 'p50')} / {ms(s['ttft_s'], 'p99')} | "
                     f"{ms(s['tpot_s'], 'p50')} / {ms(s['tpot_s'], 'p99')} | {s['status']} |")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
