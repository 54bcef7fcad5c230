#!/usr/bin/env python3
"""Multi-turn agent session on a hybrid (linear-attention) model: sluice vs llama.cpp's server on
the same GGUF file (issue 36). See bench/hybrid/README.md.

    .venv/bin/python -m bench.hybrid.agent_session --model FILE [--turns 5] [--system-tokens 8000]
        [--tool-tokens 400] [--reply-tokens 16] [--servers sluice llama.cpp] [--device cpu|cuda]

Per server and round: a warm-up request, the session (turn 0 = system prompt + task, each later
turn = the previous prompt + the server's own greedy reply + a tool result, all as one raw ChatML
string to /v1/completions), single-stream decode, then the final turn's prompt cold (llama.cpp:
`cache_prompt: false`; sluice: restarted with --no-prefix-cache). Rounds alternate the servers'
order. Writes agent_session.json and tables.md under --out.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.peers.client import RequestResult, stream_request
from bench.peers.servers import LlamaCppServer, SluiceServer, sluice_version
from bench.peers.stats import check_lengths

from . import report
from .session_text import Counter, Session, make_session

REPO = Path(__file__).resolve().parents[2]
DECODE_PROMPT = ("<|im_start|>user\nWrite a short story about a lighthouse keeper who finds a message in a "
                 "bottle.<|im_end|>\n<|im_start|>assistant\n")
# --replies fixed: the same assistant text on every server instead of its own greedy reply.
FIXED_REPLY = '<tool_call>\n{{"name": "read_file", "arguments": {{"path": "src/step_{t}.py"}}}}\n</tool_call>'
WARM_UP_PROMPT = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"


class LlamaServer(LlamaCppServer):
    """llama-server as bench/peers starts it (one slot), all layers on the GPU with --device cuda."""

    def __init__(self, *a, gpu: bool = False, **kw):
        super().__init__(*a, **kw)
        self.gpu = gpu

    def command(self, model: Path) -> list[str]:
        cmd = super().command(model)
        self.settings["gpu_layers"] = 99 if self.gpu else 0
        return cmd + (["-ngl", "99"] if self.gpu else [])


def default_llama_server() -> Path:
    """bench/peers/build_llama_cpp.sh's CPU build of the llama-cpp-python version requirements.txt pins."""
    pins = (REPO / "requirements.txt").read_text().splitlines()
    version = next((l.split("==", 1)[1] for l in pins if l.startswith("llama-cpp-python==")), "?")
    return REPO / "build/llama.cpp" / version / "build-cpu/bin/llama-server"


def eog_ids(model: Path) -> list[int] | None:
    """End-of-generation tokens by llama.cpp's own vocabulary (llama-cpp-python), None where that
    package is missing (the GPU machine): llama-server then gets `ignore_eos`, its same ban."""
    try:
        from bench.peers.workloads import Vocab
        return Vocab(model).eog_ids
    except ImportError:
        return None


def make_server(name: str, a: argparse.Namespace, ctx: int, cold: bool = False):
    log_dir = a.out / "logs"
    if name == "sluice":
        extra = ["--device", a.device, *a.sluice_flags.split()] + (["--no-prefix-cache"] if cold else [])
        return SluiceServer(a.sluice_bin, log_dir, a.threads, ctx, 8, extra=extra)
    return LlamaServer(a.llama_server, log_dir, a.threads, ctx, 1, gpu=a.device == "cuda")


def result_row(r: RequestResult) -> dict:
    return {"ok": r.ok, "error": r.error or None, "ttft_s": r.ttft, "e2e_s": r.e2e, "tpot_s": r.tpot,
            "prompt_tokens": r.prompt_tokens, "cached_tokens": r.cached_tokens,
            "output_tokens": r.output_tokens, "counted_by": r.counted_by, "finish_reason": r.finish_reason,
            "text_events": r.num_chunks, "reply_chars": len(r.text)}


class Client:
    """Streamed /v1/completions against one started server; every request on a fresh connection."""

    def __init__(self, srv, model: Path, extra: dict, timeout_s: float):
        self.srv, self.model_id, self.extra, self.timeout_s = srv, srv.model_id(model), extra, timeout_s
        self.results: list[tuple[RequestResult, int]] = []  # (result, requested tokens)

    async def complete(self, prompt: str, n_out: int, **kw) -> RequestResult:
        body = {"model": self.model_id, "prompt": prompt, "max_tokens": n_out, "temperature": 0, "stream": True,
                "stream_options": {"include_usage": True}, **self.extra, **kw}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
            r = await stream_request(s, self.srv.base_url + "/v1/completions", body, self.timeout_s)
        self.results.append((r, n_out))
        return r


async def run_session(c: Client, sess: Session, a: argparse.Namespace, log) -> dict:
    """Warm-up, the turns, decode runs; returns the turns and the final prompt."""
    await c.complete(WARM_UP_PROMPT, 4)
    turns, prompt, reply = [], sess.first_prompt(), ""
    for t in range(a.turns):
        if t > 0:
            prompt = Session.next_prompt(prompt, reply, sess.messages[t])
        r = await c.complete(prompt, a.reply_tokens)
        turns.append({"turn": t, "prompt_chars": len(prompt), **result_row(r)})
        log(f"  turn {t}: TTFT {r.ttft:.3f} s, prompt {r.prompt_tokens}, cached {r.cached_tokens}"
            + (f" ERROR {r.error}" if r.error else ""))
        reply = r.text if a.replies == "model" else FIXED_REPLY.format(t=t)
    decode = []
    for i in range(a.decode_runs):
        r = await c.complete(DECODE_PROMPT, a.decode_tokens)
        decode.append(result_row(r))
        log(f"  decode {i}: {1 / r.tpot if r.tpot == r.tpot else float('nan'):.2f} tok/s")
    return {"turns": turns, "decode": decode, "final_prompt": prompt}


async def run_cold(c: Client, prompt: str, a: argparse.Namespace, log, **kw) -> list[dict]:
    out = []
    for i in range(a.cold_runs):
        r = await c.complete(prompt, a.reply_tokens, **kw)
        out.append(result_row(r))
        log(f"  cold {i}: TTFT {r.ttft:.3f} s, prompt {r.prompt_tokens}, cached {r.cached_tokens}")
    return out


def start(srv, model: Path) -> str | None:
    try:
        srv.start(model, ready_timeout=900)
        return None
    except Exception as e:  # noqa: BLE001
        srv.stop()
        return f"did not start: {e}"


def run_server(name: str, a: argparse.Namespace, sess: Session, ctx: int, eog: list[int] | None, log) -> dict:
    """One round of one server: the session and decode, then the cold final prompt."""
    srv = make_server(name, a, ctx)
    extra = srv.extra_body(eog) if (name == "sluice" or eog is not None) else {"ignore_eos": True}
    rec: dict = {"server": name}
    err = start(srv, a.model)
    rec.update({"cmd": srv.cmd, "settings": srv.settings, "startup_s": srv.startup_s})
    if err:
        return {**rec, "status": "FAILING", "reason": err}
    c = Client(srv, a.model, extra, a.request_timeout)
    try:
        rec.update(asyncio.run(run_session(c, sess, a, log)))
        if name == "llama.cpp":
            rec["cold"] = asyncio.run(run_cold(c, rec["final_prompt"], a, log, cache_prompt=False))
            rec["cold_how"] = "same server, cache_prompt: false"
    finally:
        srv.stop()
        rec["peak_rss_mib"] = srv.peak_rss_mib
    if name == "sluice" and a.cold_runs > 0:
        cold_srv = make_server(name, a, ctx, cold=True)
        err = start(cold_srv, a.model)
        rec["cold_cmd"] = cold_srv.cmd
        if err:
            return {**rec, "status": "FAILING", "reason": f"--no-prefix-cache server {err}"}
        cc = Client(cold_srv, a.model, extra, a.request_timeout)
        try:
            asyncio.run(cc.complete(WARM_UP_PROMPT, 4))
            rec["cold"] = asyncio.run(run_cold(cc, rec["final_prompt"], a, log))
            rec["cold_how"] = "restarted with --no-prefix-cache"
        finally:
            cold_srv.stop()
        c.results += cc.results
    problems = []
    for r, want in c.results:
        problems += check_lengths([r], want, lambda t: Counter(a.sluice_bin, a.model).counts([t])[0])
    rec["problems"] = problems
    rec["status"] = "OK" if not problems else "FAILING"
    rec["final_prompt_chars"] = len(rec.pop("final_prompt"))
    return rec


def version(binary: Path) -> str:
    try:
        return sluice_version(binary)
    except OSError:  # no git (the GPU machine's image)
        return f"? ({binary})"


def machine() -> dict:
    lscpu = subprocess.run(["sh", "-c", "lscpu 2>/dev/null"], capture_output=True, text=True).stdout
    cpu = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name:")), "?")
    gpu = subprocess.run(["sh", "-c", "nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null"],
                         capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cpus": os.cpu_count(), "gpu": gpu or None, "os": platform.platform()}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.hybrid.agent_session", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="GGUF file both servers load")
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--system-tokens", type=int, default=8000)
    ap.add_argument("--tool-tokens", type=int, default=400, help="tokens of each user / tool-result message")
    ap.add_argument("--reply-tokens", type=int, default=16)
    ap.add_argument("--replies", choices=["model", "fixed"], default="model",
                    help="what the next turn appends as the assistant's message: the server's own greedy "
                         "reply, or a fixed tool call (then every server gets byte-identical prompts)")
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--decode-runs", type=int, default=2)
    ap.add_argument("--cold-runs", type=int, default=1, help="cold requests of the final prompt per round")
    ap.add_argument("--rounds", type=int, default=2, help="rounds, the servers' order alternated")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--servers", nargs="+", choices=["sluice", "llama.cpp"], default=["sluice", "llama.cpp"])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--llama-server", type=Path, default=default_llama_server())
    ap.add_argument("--sluice-bin", type=Path, default=Path(os.environ.get("SLUICE_BIN", REPO / "build/release/sluice")))
    ap.add_argument("--sluice-flags", default="", help="extra `sluice serve` flags")
    ap.add_argument("--request-timeout", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/hybrid")
    a = ap.parse_args(argv)
    a.sluice_bin, a.model = a.sluice_bin.resolve(), a.model.resolve()
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the servers stop in `finally`
    for p, what in ((a.model, "--model"), (a.sluice_bin, "--sluice-bin")):
        if not p.exists():
            sys.exit(f"no {what} at {p}")
    if "llama.cpp" in a.servers and not a.llama_server.exists():
        sys.exit(f"no llama-server at {a.llama_server} (bench/peers/build_llama_cpp.sh, or --llama-server)")
    a.out.mkdir(parents=True, exist_ok=True)
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.2f}: other processes share the cores; the numbers "
              "will be noisy (llama.cpp's spinning thread pool suffers most)", file=sys.stderr)
    t0 = time.perf_counter()
    log = lambda s: print(f"{time.perf_counter() - t0:7.1f}s {s}", file=sys.stderr, flush=True)  # noqa: E731
    counter = Counter(a.sluice_bin, a.model)
    sess = make_session(counter, a.turns, a.system_tokens, a.tool_tokens)
    sizes = counter.counts([sess.system, *sess.messages])
    # Context: the whole session (ChatML markers as plain text: up to ~30 tokens a turn more).
    need = sizes[0] + sum(sizes[1:]) + a.turns * (a.reply_tokens + 40) + a.decode_tokens + 256
    ctx = -(-need // 1024) * 1024
    eog = eog_ids(a.model) if "llama.cpp" in a.servers else None
    result = {
        "command": shlex.join(["python", "-m", "bench.hybrid.agent_session", *(argv or sys.argv[1:])]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
        "load_avg_at_start": os.getloadavg(), "sluice": version(a.sluice_bin),
        "llama_server": str(a.llama_server), "model": str(a.model),
        "model_bytes": a.model.stat().st_size, "device": a.device, "threads": a.threads, "ctx": ctx,
        "config": {k: getattr(a, k) for k in ("turns", "system_tokens", "tool_tokens", "reply_tokens", "replies",
                                              "decode_tokens", "decode_runs", "cold_runs", "rounds")},
        "session_tokens": {"system": sizes[0], "messages": sizes[1:], "counted_by": "sluice tokenize --parse-special"},
        "llama_fixed_length_by": "logit_bias on EOG" if eog is not None else "ignore_eos",
        "rounds": [],
    }
    log(f"session: system {sizes[0]} tokens, messages {sizes[1:]}; ctx {ctx}")
    for rnd in range(a.rounds):
        order = a.servers if rnd % 2 == 0 else a.servers[::-1]
        recs = {}
        for name in order:
            log(f"round {rnd + 1}: {name}")
            recs[name] = run_server(name, a, sess, ctx, eog, log)
            if recs[name]["status"] != "OK":
                log(f"  {name}: {recs[name]['status']}: {recs[name].get('reason') or recs[name].get('problems')}")
        result["rounds"].append({"order": order, "servers": recs})
    result["wall_s"] = time.perf_counter() - t0
    result["load_avg_at_end"] = os.getloadavg()
    result["summary"] = report.summarize(result)
    (a.out / "agent_session.json").write_text(json.dumps(result, indent=1, default=str))
    text = report.tables(result)
    (a.out / "tables.md").write_text(text)
    print(text)
    log(f"wrote {a.out / 'agent_session.json'} and tables.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
