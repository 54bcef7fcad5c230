"""Starts `sluice serve` as a subprocess on a free port and waits until /health says ready."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


class SluiceServer:
    """`with SluiceServer(binary, "-m", model, ...) as s:` then s.base_url ("http://127.0.0.1:PORT")."""

    def __init__(self, binary: Path | str, *args: str, ready_timeout: float = 120.0):
        self.args = [str(binary), "serve", "--port", "0", *args]
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.stderr_lines: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "SluiceServer":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
        deadline = time.monotonic() + self.ready_timeout
        assert self.proc.stderr is not None
        while not self.port:  # "sluice: listening on http://127.0.0.1:PORT (loading ...)"
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"sluice serve exited ({self.proc.wait()}): {''.join(self.stderr_lines)}")
            self.stderr_lines.append(line)
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        # Keep draining stderr so the server never blocks on a full pipe.
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sluice serve exited ({self.proc.returncode}): {''.join(self.stderr_lines)}")
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=5) as r:
                    if r.status == 200:
                        return self
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("sluice serve did not become ready")

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def __exit__(self, *exc) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metrics(self) -> dict[str, float]:
        """Samples of /metrics by full name (labels included, as the server writes them) and,
        summed over their labels, by bare name: metrics()["sluice_kv_cache_blocks_used"]."""
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
            bare = name.partition("{")[0]
            if bare != name:
                out[bare] = out.get(bare, 0.0) + float(value)
        return out

    def requests_total(self) -> dict[tuple[str, str], float]:
        """sluice_requests_total by (route, status)."""
        out: dict[tuple[str, str], float] = {}
        for name, value in self.metrics().items():
            m = re.match(r'sluice_requests_total\{route="([^"]*)",model="[^"]*",status="(-?\d+)"\}',
                         name)
            if m:
                out[(m.group(1), m.group(2))] = out.get((m.group(1), m.group(2)), 0.0) + value
        return out

    def post(self, path: str, body, headers: dict | None = None, raw: bytes | None = None):
        """(status, parsed JSON or text) for a POST, without raising on HTTP errors."""
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")
