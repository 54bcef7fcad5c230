"""Starting, watching and stopping the three servers: sluice, llama.cpp (its C++
`llama-server`) and mlx-lm's server. Each one listens on 127.0.0.1 and gets the same thread count and
context length where it has such a setting; what it does not have is written in `settings`."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

try:
    import psutil
except ImportError:  # the peak RSS then comes from /proc/PID/status alone
    psutil = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssWatch:
    """Peak RSS of a process and its children: sampled sum (psutil, every 0.25 s) and the kernel's
    high-water marks (VmHWM) of every process seen, read again at the end; the larger is reported."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_sampled_kib = 0
        self.hwm_kib: dict[int, int] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _pids(self) -> list[int]:
        if psutil is None:
            return [self.pid]
        try:
            p = psutil.Process(self.pid)
            return [self.pid] + [c.pid for c in p.children(recursive=True)]
        except psutil.Error:
            return []

    def _sample(self) -> None:
        total = 0
        for pid in self._pids():
            hwm = _vm_hwm_kib(pid)
            if hwm:
                self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), hwm)
            if psutil is not None:
                try:
                    total += psutil.Process(pid).memory_info().rss // 1024
                except psutil.Error:
                    pass
        self.peak_sampled_kib = max(self.peak_sampled_kib, total)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def finish(self) -> float:
        """Stops sampling (call before the process exits); returns the peak in MiB."""
        self._sample()
        self._stop.set()
        self._t.join()
        return max(self.peak_sampled_kib, sum(self.hwm_kib.values())) / 1024


class Server:
    name = "?"
    endpoint_note = ""

    def __init__(self, log_dir: Path, threads: int, ctx: int, max_seqs: int):
        self.log_dir, self.threads, self.ctx, self.max_seqs = log_dir, threads, ctx, max_seqs
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.rss: RssWatch | None = None
        self.peak_rss_mib = float("nan")
        self.startup_s = float("nan")
        self.cmd: list[str] = []
        self.settings: dict = {}
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, model: Path) -> list[str]:
        raise NotImplementedError

    def ready_path(self) -> str:
        return "/v1/models"

    def start(self, model: Path, ready_timeout: float = 300) -> None:
        self.port = free_port()
        self.cmd = self.command(model)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / f"{self.name}-{model.name}.log"
        log = open(self.log_path, "a")  # restarts append
        t0 = time.perf_counter()
        env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.rss = RssWatch(self.proc.pid)
        self._wait_listening(ready_timeout)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); log: {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + self.ready_path(), timeout=5) as r:
                    if r.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {ready_timeout} s; log: {self.log_path}")

    def _wait_listening(self, timeout: float) -> None:
        pass

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.rss is not None:
            peak = self.rss.finish()  # across restarts: the largest
            self.peak_rss_mib = peak if self.peak_rss_mib != self.peak_rss_mib else max(self.peak_rss_mib, peak)
            self.rss = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def metrics_text(self) -> str | None:
        return None

    def model_id(self, model: Path) -> str:
        return model.name


class SluiceServer(Server):
    name = "sluice"

    def __init__(self, binary: Path, *a, extra: list[str] | None = None, **kw):
        super().__init__(*a, **kw)
        self.binary, self.extra = binary, extra or []

    def command(self, model: Path) -> list[str]:
        # --port 0 would also work (the port is printed); a chosen port keeps the three alike.
        self.settings = {"threads": self.threads, "max_model_len": self.ctx, "max_num_seqs": self.max_seqs,
                         "prefix_cache": "on (default)", "continuous_batching": "yes", "extra_flags": self.extra}
        return [str(self.binary), "serve", "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                "--threads", str(self.threads), "--max-model-len", str(self.ctx),
                "--max-num-seqs", str(self.max_seqs), *self.extra]

    def ready_path(self) -> str:
        return "/health"

    def extra_body(self, eog_ids: list[int]) -> dict:
        return {"ignore_eos": True}

    def metrics_text(self) -> str | None:
        try:
            with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as r:
                return r.read().decode()
        except OSError:
            return None


class LlamaCppServer(Server):
    """llama.cpp's C++ `llama-server` (bench/peers/build_llama_cpp.sh): parallel slots with
    continuous batching, one slot per concurrent request, each with the full context. The runner
    restarts it with as many slots as the next workload's concurrency (`slots_per_workload`)."""
    name = "llama.cpp"
    slots_per_workload = True

    def __init__(self, binary: Path, *a, cache: bool = True, **kw):
        super().__init__(*a, **kw)
        self.binary, self.cache = binary, cache

    def command(self, model: Path) -> list[str]:
        # -c is the context of all slots together: each of the -np slots gets ctx.
        # --cache-ram: its host-memory prompt cache (MiB), its prefix cache across requests.
        self.settings = {"threads": self.threads, "threads_batch": self.threads,
                         "parallel_slots": "the workload's concurrency (-np 1, sessions, 1/4/16/64)",
                         "ctx_per_slot_note": "the workload's prompt + output + 64 (agent: the model's)",
                         "ctx_per_slot": self.ctx, "batch": 2048, "ubatch": 512,
                         "cache_ram_mib": 8192 if self.cache else 0, "continuous_batching": "yes (slots)"}
        return [str(self.binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                "-np", str(self.max_seqs), "-c", str(self.ctx * self.max_seqs), "-t", str(self.threads),
                "-tb", str(self.threads), "-b", "2048", "-ub", "512", "--cont-batching",
                "--cache-ram", str(8192 if self.cache else 0), "--no-webui"]

    def ready_path(self) -> str:
        return "/health"

    def extra_body(self, eog_ids: list[int]) -> dict:
        # The same ban of the end-of-generation tokens as for mlx-lm (fixed output lengths).
        return {"logit_bias": {str(t): -100.0 for t in eog_ids}}


class MlxLmServer(Server):
    name = "mlx-lm"

    def command(self, model: Path) -> list[str]:
        self.settings = {"device": "cpu (mlx[cpu])", "decode_concurrency": self.max_seqs,
                         "prompt_concurrency": 8, "prefill_step_size": 2048, "prompt_cache_size": 32,
                         "threads": "not settable (MLX's CPU backend)",
                         "context": "no limit setting (the KV cache grows)",
                         "continuous_batching": "yes (BatchGenerator)"}
        return [sys.executable, "-m", "mlx_lm.server", "--model", str(model), "--host", "127.0.0.1",
                "--port", str(self.port), "--temp", "0", "--max-tokens", str(self.ctx),
                "--decode-concurrency", str(self.max_seqs), "--prompt-concurrency", "8",
                "--prompt-cache-size", "32", "--log-level", "WARNING"]

    def ready_path(self) -> str:
        return "/health"

    def model_id(self, model: Path) -> str:
        return "default_model"  # any other id makes mlx-lm look the model up on the Hugging Face hub

    def extra_body(self, eog_ids: list[int]) -> dict:
        return {"logit_bias": {str(t): -100.0 for t in eog_ids}}


def version_of(pkg: str) -> str:
    try:
        from importlib.metadata import version
        return version(pkg)
    except Exception:  # noqa: BLE001
        return "?"


def sluice_version(binary: Path) -> str:
    repo = Path(__file__).resolve().parents[2]
    r = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    rev = r.stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return rev + ("+dirty" if dirty else "") + f" ({binary})"


def parse_metric(text: str | None, name: str) -> float | None:
    """A metric's value, summed over its label sets (sluice labels its series by model)."""
    if not text:
        return None
    values = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.eE+-]+)$", text, re.M)
    return sum(float(v) for v in values) if values else None
