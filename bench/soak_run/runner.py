"""Running the soak against a started server: baseline, warm-up, before, the main phase from worker
threads (with disconnects and SDK-style retries), baseline re-runs, after."""
from __future__ import annotations

import functools
import json
import random
import socket
import struct
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from .http_io import HANG_S, JSON, Reply, read_metrics, rss_kib, send
from .jobs import Job, baseline_set, make_job, valid_request
from .mutations import Big, templates
from .report import IDLE_S, Report
from .shapes import error_shape_ok, ok_body_wellformed, output_of

if TYPE_CHECKING:
    from server_util import SluiceServer

# One engine thread leaves the other core to this client; --deterministic makes greedy outputs
# independent of the batch; a 512-token context bounds any accepted request (a mutated body can
# drop max_tokens); a 128 MB KV pool, touched whole in the warm-up, is in the RSS read before.
SERVER_ARGS = ["--threads", "1", "--deterministic", "--max-model-len", "512", "--kv-cache-memory", "128MB"]
BODY_CAP = 32 << 20  # the server's body limit (413 above)


class Context:
    """What the workers share: the server, the report and its lock, the baseline outputs."""

    def __init__(self, server: SluiceServer, seed: int, skip: frozenset):
        self.server, self.port, self.skip = server, server.port, skip
        model = json.loads(send(self.port, "GET", "/v1/models", None, {}).body)["data"][0]
        self.model, self.max_model_len = model["id"], model.get("max_model_len", 512)
        self.templates = templates(self.model)
        self.big = Big(seed)
        self.report = Report()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set when the server is gone
        self.main_phase = False        # jobs are counted in the report only then
        self.baseline: list[str] = []


def record(ctx: Context, job: Job, reply: Reply) -> None:
    """Counts one answer and files it under each check it fails."""
    entry = {"index": job.index, "kind": job.kind, "detail": job.detail, "method": job.method,
             "route": job.path[:200], "status": reply.status, "seconds": round(reply.seconds, 2),
             "body_head": repr((job.body or b"")[:200]), "answer_head": repr(reply.body[:200]), "error": reply.error}
    rep = ctx.report
    if reply.status is None and server_died(ctx):
        if "Refused" not in reply.error:  # in flight when the server died: the suspects
            with ctx.lock:
                rep.cut_by_crash.append(entry)
        return
    with ctx.lock:
        rep.requests += 1
        rep.statuses[reply.status if reply.status is not None else "none"] += 1
        rep.slowest = sorted(rep.slowest + [(round(reply.seconds, 2), job.path[:60], job.detail)])[-5:][::-1]
        if reply.status is None:
            (rep.hangs if reply.error.startswith("timeout") else rep.no_answer).append(entry)
        elif reply.status >= 500:
            rep.server_errors.append(entry)
        elif reply.status >= 400 and not error_shape_ok(job.path, reply.body):
            rep.malformed_errors.append(entry)
        elif reply.status < 300 and not ok_body_wellformed(job.path, reply):
            rep.malformed_ok.append(entry)
        if job.expect is not None and reply.status not in (job.expect, None):
            rep.unexpected_status.append(entry)


def server_died(ctx: Context) -> bool:
    """True (and stop the run) once the server process has exited; waits a moment for a dying one."""
    try:
        ctx.server.proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        return False
    ctx.stop.set()
    return True


def run_job(ctx: Context, index: int, seed: int) -> None:
    """Builds job `index` (in the worker, so that large bodies live one at a time) and runs it."""
    job = make_job(index, seed, ctx)
    if ctx.main_phase:
        with ctx.lock:
            ctx.report.bodies += 1
            ctx.report.jobs_by_kind[job.kind + (f"/{job.detail}" if job.kind == "mutant" else "")] += 1
    if job.kind == "disconnect":
        disconnect(ctx, job)
    elif job.kind == "retry":
        retry(ctx, job)
    else:
        record(ctx, job, send(ctx.port, job.method, job.path, job.body, job.headers))


def disconnect(ctx: Context, job: Job) -> None:
    """A valid request of 200 tokens on a raw socket, closed after 0-1.5 s (half of them with a RST)."""
    rng = random.Random(job.detail)
    path, body = valid_request(rng, ctx.model)
    body.update(max_tokens=200, ignore_eos=True)
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", ctx.port), timeout=10) as sock:
            sock.sendall(head + data)
            time.sleep(rng.uniform(0, 1.5))
            if rng.random() < 0.5:  # linger 0: close with a RST instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError as e:
        record(ctx, Job(job.index, "disconnect", path=path, body=data), Reply(None, error=repr(e)))
        return
    with ctx.lock:
        ctx.report.requests += 1


def retry(ctx: Context, job: Job) -> None:
    """SDK-style: a tiny timeout, the same request sent again (twice, as the OpenAI SDK does); the last
    attempt waits and must get 200."""
    rng = random.Random(job.detail)
    path, body = valid_request(rng, ctx.model)
    attempt = Job(job.index, "retry", path=path, body=json.dumps(body).encode(), expect=200)
    for n in range(3):
        attempt.headers = {**JSON, "x-stainless-retry-count": str(n)}
        reply = send(ctx.port, "POST", path, attempt.body, attempt.headers,
                     timeout=rng.uniform(0.02, 0.5) if n < 2 else HANG_S)
        if reply.status is not None or n == 2:
            record(ctx, attempt, reply)
            return
        with ctx.lock:
            ctx.report.requests += 1  # the abandoned attempt
        time.sleep(rng.uniform(0.05, 0.3))


def over_cap(ctx: Context, index: int) -> None:
    """One body over the 32 MiB cap: 413 in the route's shape."""
    route = random.Random(index).choice(["/v1/chat/completions", "/v1/messages"])
    body = b'{"prompt": "' + b"a" * (BODY_CAP + (1 << 20)) + b'"}'
    reply = send(ctx.port, "POST", route, body, JSON)
    record(ctx, Job(index, "over_cap", path=route, body=body[:200], expect=413), reply)


def baseline_outputs(ctx: Context, tag: str) -> list[str]:
    """The baseline set's outputs ("" for a failed request, which record() also files)."""
    outs = []
    for i, (path, body) in enumerate(baseline_set(ctx.model)):
        job = Job(-1, "baseline", path=path, body=json.dumps(body).encode(), headers=JSON, detail=f"{tag}#{i}",
                  expect=200)
        reply = send(ctx.port, "POST", path, job.body, job.headers)
        record(ctx, job, reply)
        try:
            outs.append(output_of(path, reply) if reply.status == 200 else "")
        except (ValueError, KeyError, IndexError, TypeError):
            outs.append("")
    return outs


def check_baseline(ctx: Context, tag: str) -> None:
    with ctx.lock:
        ctx.report.rss_trace_mib.append((tag, round(rss_kib(ctx.server.proc.pid) / 1024, 1)))
    for i, (got, want) in enumerate(zip(baseline_outputs(ctx, tag), ctx.baseline)):
        if got != want:
            with ctx.lock:
                ctx.report.outputs_changed.append({"when": tag, "request": i, "baseline": want, "now": got})


def run_all(ctx: Context, tasks, workers: int) -> None:
    """Runs the callables of the iterator `tasks` on `workers` threads, each pulling the next one;
    the first exception stops the others and is raised here."""
    lock, errors = threading.Lock(), []

    def worker():
        while not ctx.stop.is_set() and not errors:
            with lock:
                task = next(tasks, None)
            if task is None:
                return
            try:
                task()
            except Exception as e:  # noqa: BLE001  (re-raised below)
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def main_tasks(ctx: Context, bodies: int, seed: int):
    """The main phase: jobs 0..bodies-1, the baseline re-run at 1/4, 1/2, 3/4, one body over the cap."""
    checkpoints = {bodies * k // 4: f"{k}/4" for k in (1, 2, 3)}
    for i in range(bodies):
        if i in checkpoints:
            yield functools.partial(check_baseline, ctx, checkpoints[i])
        if i == bodies // 3:
            yield functools.partial(over_cap, ctx, i)
        yield functools.partial(run_job, ctx, i, seed)


def big_bodies_once(ctx: Context, workers: int) -> None:
    """Every large body once, from all workers at a time: the allocator reaches its peak before RSS is read."""
    def one(route: str, data: bytes) -> None:
        job = Job(-1, "warmup", path=route, body=data[:200], detail="big body")
        record(ctx, job, send(ctx.port, "POST", route, data, JSON))

    run_all(ctx, (functools.partial(one, route, data) for route, data in ctx.big.all_bodies(ctx.templates)),
            workers)


def fill_kv_pool(ctx: Context) -> None:
    """Distinct long prompts until every block of the pool (taken LRU from the free queue) was used
    once, so that the RSS read before includes the whole KV pool. Assumes 16-token blocks."""
    total_tokens = read_metrics(ctx.port)["sluice_kv_cache_blocks_total"] * 16
    n_words = max(8, min(470, ctx.max_model_len - 40))
    words = "river owl bread star map stone cloud lamp field door".split()
    rng, done = random.Random(0), 0
    while done < total_tokens and not ctx.stop.is_set():
        prompt = " ".join(rng.choice(words) for _ in range(n_words))
        job = Job(-1, "warmup", path="/v1/completions", detail="fill KV pool", expect=200,
                  body=json.dumps({"model": ctx.model, "prompt": prompt, "max_tokens": 1}).encode())
        reply = send(ctx.port, "POST", job.path, job.body, JSON)
        record(ctx, job, reply)
        done += json.loads(reply.body)["usage"]["prompt_tokens"] if reply.status == 200 else n_words


def wait_idle(port: int, timeout: float = IDLE_S) -> tuple[bool, dict]:
    """(idle, metrics): idle once no request runs or waits."""
    deadline = time.monotonic() + timeout
    while True:
        m = read_metrics(port)
        if m.get("sluice_num_requests_running", 0) == 0 and m.get("sluice_num_requests_waiting", 0) == 0:
            return True, m
        if time.monotonic() > deadline:
            return False, m
        time.sleep(0.25)


def snapshot(ctx: Context) -> tuple[bool, float, int]:
    """(idle, KV blocks held by requests, RSS KiB) once the server is idle. sluice_kv_cache_blocks_used
    counts blocks with a reference; blocks kept only by the prefix cache are free (src/api/server_metrics.cc)."""
    idle, m = wait_idle(ctx.port)
    return idle, m["sluice_kv_cache_blocks_used"], rss_kib(ctx.server.proc.pid)


def warmup_count(bodies: int) -> int:
    return min(300, max(50, bodies // 10))


def run_soak(server: SluiceServer, bodies: int, seed: int = 0, workers: int = 8, settle: bool = True,
             skip=(), log=lambda msg: None) -> Report:
    """The whole soak against a started server; the caller checks Report.failures().
    settle: end the warm-up with every large body and a pass over the KV pool (for the RSS check);
    skip: mutations (names in MUTATIONS) to leave out."""
    start = time.monotonic()
    ctx = Context(server, seed, frozenset(skip))
    try:
        phases(ctx, bodies, seed, workers, settle, log)
    except (OSError, RuntimeError, ValueError):
        if server.alive():
            raise
    rep = ctx.report
    rep.seconds = time.monotonic() - start
    if not server.alive():
        rep.crashed, rep.server_exit = True, server.proc.returncode
        rep.server_stderr_tail = [line.rstrip() for line in server.stderr_lines[-30:]]
    return rep


def phases(ctx: Context, bodies: int, seed: int, workers: int, settle: bool, log) -> None:
    """Baseline, warm-up, before, main phase, final baseline, after; stops early if the server dies."""
    rep = ctx.report
    ctx.baseline = baseline_outputs(ctx, "start")
    log(f"baseline: {len(ctx.baseline)} outputs; warm-up: {warmup_count(bodies)} jobs")
    run_all(ctx, (functools.partial(run_job, ctx, i, seed) for i in range(-warmup_count(bodies), 0)), workers)
    over_cap(ctx, -1)
    if settle:
        big_bodies_once(ctx, workers)
        fill_kv_pool(ctx)
    if ctx.stop.is_set():
        return
    _, rep.kv_blocks_before, rep.rss_before_kib = snapshot(ctx)
    log(f"before: {rep.kv_blocks_before:g} KV blocks held, RSS {rep.rss_before_kib / 1024:.1f} MiB; "
        f"main phase: {bodies} jobs")
    ctx.main_phase = True
    run_all(ctx, main_tasks(ctx, bodies, seed), workers)
    ctx.main_phase = False
    if ctx.stop.is_set():
        return
    check_baseline(ctx, "end")
    rep.idle, rep.kv_blocks_after, rep.rss_after_kib = snapshot(ctx)
