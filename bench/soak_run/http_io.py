"""HTTP for the soak: one request per fresh connection (never raises), /metrics, the server's RSS."""
from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass
from pathlib import Path

HANG_S = 60.0  # a request without its full answer after this long is a hang
JSON = {"Content-Type": "application/json"}


@dataclass
class Reply:
    status: int | None  # None: no HTTP answer (see error)
    body: bytes = b""
    content_type: str = ""
    seconds: float = 0.0
    error: str = ""


def read_until(resp: http.client.HTTPResponse, deadline: float) -> bytes:
    """The whole body, or TimeoutError once the deadline passes (a stream that never ends)."""
    parts = []
    while chunk := resp.read1(1 << 16):
        parts.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("answer not finished within the hang limit")
    return b"".join(parts)


def send(port: int, method: str, path: str, body: bytes | None, headers: dict,
         timeout: float = HANG_S) -> Reply:
    """One request on a fresh connection; never raises."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    try:
        try:
            conn.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before the whole body is sent
        resp = conn.getresponse()
        data = read_until(resp, start + timeout)
        return Reply(resp.status, data, resp.getheader("Content-Type", ""), time.monotonic() - start)
    except (TimeoutError, socket.timeout) as e:
        return Reply(None, seconds=time.monotonic() - start, error=f"timeout: {e}")
    except (OSError, http.client.HTTPException) as e:
        return Reply(None, seconds=time.monotonic() - start, error=repr(e))
    finally:
        conn.close()


def read_metrics(port: int) -> dict[str, float]:
    """/metrics summed over labels per metric name (tolerant of labels added later)."""
    reply = send(port, "GET", "/metrics", None, {}, timeout=10)
    if reply.status != 200:
        raise RuntimeError(f"/metrics answered {reply.status} {reply.error}")
    out: dict[str, float] = {}
    for line in reply.body.decode().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        name = sample.split("{", 1)[0]
        out[name] = out.get(name, 0.0) + float(value)
    return out


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
