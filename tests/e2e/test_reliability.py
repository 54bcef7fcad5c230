"""Reliability of the real server: requests abandoned by their clients are aborted at once (blocks
back in the pool, counted as 499), SDK retries leave no orphans, SIGTERM drains gracefully within
--shutdown-timeout, a second signal exits at once, and /metrics counts every request once with
its real status.
"""
from __future__ import annotations

import json
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest

from server_util import SluiceServer

LONG = {"model": "m", "prompt": "Count: 1, 2, 3,", "max_tokens": 3000, "ignore_eos": True,
        "temperature": 0}


def raw_post(port: int, path: str, body: dict) -> socket.socket:
    """Sends a POST on a fresh socket and returns the socket without reading the answer."""
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def wait_for(server: SluiceServer, pred, timeout: float) -> tuple[bool, dict]:
    deadline = time.monotonic() + timeout
    while True:
        m = server.metrics()
        if pred(m):
            return True, m
        if time.monotonic() > deadline:
            return False, m
        time.sleep(0.05)


def idle(m: dict) -> bool:
    return (m["sluice_kv_cache_blocks_used"] == 0 and m["sluice_num_requests_running"] == 0
            and m["sluice_num_requests_waiting"] == 0)


def health_status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def server(sluice_bin):
    with SluiceServer(sluice_bin, "--max-num-seqs", "64") as s:
        yield s


@pytest.mark.parametrize("path,body", [
    ("/v1/completions", LONG),
    ("/v1/chat/completions", {**LONG, "prompt": None, "messages": [{"role": "user", "content": "Count."}]}),
    ("/v1/messages", {"model": "m", "max_tokens": 3000, "temperature": 0,
                      "messages": [{"role": "user", "content": "Count from 1 to 1000, comma separated."},
                                   {"role": "assistant", "content": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"}]}),
])
@pytest.mark.parametrize("stream", [False, True])
def test_abandoned_request_frees_its_blocks_and_counts_499(server, path, body, stream):
    body = {k: v for k, v in body.items() if v is not None}
    before = server.requests_total().get((path, "499"), 0)
    sock = raw_post(server.port, path, {**body, "stream": stream})
    ok, m = wait_for(server, lambda m: m["sluice_kv_cache_blocks_used"] > 0, 10)
    assert ok, m
    time.sleep(0.5)  # well into generation
    assert server.metrics()["sluice_num_requests_running"] == 1  # still generating
    sock.close()
    t0 = time.monotonic()
    ok, m = wait_for(server, idle, 2.0)
    assert ok, f"blocks still held {time.monotonic() - t0:.1f} s after the client left: {m}"
    ok, _ = wait_for(server, lambda m: server.requests_total().get((path, "499"), 0) == before + 1, 2)
    assert ok, server.requests_total()


def test_timeouts_with_sdk_retries_leave_the_pool_full(server):
    """20 clients whose requests time out, each retried twice by the OpenAI SDK: 60 orphans
    without the abort; with it the pool is whole again at once."""
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", timeout=0.4, max_retries=2)
    errors = []

    def one():
        try:
            client.completions.create(model="m", prompt="Count: 1, 2,", max_tokens=3000,
                                      extra_body={"ignore_eos": True})
        except openai.APITimeoutError:
            errors.append("timeout")

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 20
    ok, m = wait_for(server, idle, 2.0)
    assert ok, m


def settled_requests_total(server: SluiceServer) -> dict:
    """requests_total() once the earlier tests' last responses are counted: nothing in flight and
    the counts (/metrics aside) unchanged for a second."""
    def others(t):
        return {k: v for k, v in t.items() if k[0] != "/metrics"}
    last = server.requests_total()
    while True:
        time.sleep(1.0)
        now = server.requests_total()
        if others(now) == others(last) and server.metrics()["sluice_http_requests_in_flight"] == 0:
            return server.requests_total()
        last = now


def test_metrics_count_every_request_once_with_its_status(server):
    before = settled_requests_total(server)
    sent: dict[tuple[str, str], int] = {}

    def expect(route: str, status: int):
        sent[(route, str(status))] = sent.get((route, str(status)), 0) + 1

    status, _ = server.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}],
                                                     "max_tokens": 3})
    assert status == 200
    expect("/v1/chat/completions", 200)
    status, _ = server.post("/v1/chat/completions", {"messages": "not a list"})
    assert status == 400
    expect("/v1/chat/completions", 400)
    status, _ = server.post("/v1/no/such/route", {})
    assert status == 404
    expect("other", 404)
    req = urllib.request.Request(server.base_url + "/v1/messages", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps({
            "model": "m", "max_tokens": 3, "stream": True,
            "messages": [{"role": "user", "content": "Hi"}]}).encode())
    with urllib.request.urlopen(req, timeout=60) as r:
        assert b"message_stop" in r.read()
    expect("/v1/messages", 200)
    assert health_status(server.port) == 200
    expect("/health", 200)
    server.metrics()  # counted once it is answered
    expect("/metrics", 200)
    reads = 0  # further /metrics reads while waiting for the counts to settle

    # The requests_total() read that took `before` is itself counted once, in `after`.
    sent[("/metrics", "200")] += 1
    deadline = time.monotonic() + 2  # a response is counted once written: the client may be first
    while True:
        after = server.requests_total()
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        delta = {k: v for k, v in delta.items() if v}
        sent_now = {**sent, ("/metrics", "200"): sent[("/metrics", "200")] + reads}
        if delta == sent_now or time.monotonic() > deadline:
            break
        reads += 1
        time.sleep(0.05)
    assert not any(status == "-1" for _, status in after), after
    assert delta == sent_now


def test_sigterm_drains_then_exits_zero(sluice_bin):
    with SluiceServer(sluice_bin, "--shutdown-timeout", "3") as s:
        done = s.post("/v1/completions", {"prompt": "Hi", "max_tokens": 4})  # before the signal
        assert done[0] == 200
        short: dict = {}
        long_stream = raw_post(s.port, "/v1/completions", {**LONG, "stream": True})
        ok, m = wait_for(s, lambda m: m["sluice_kv_cache_blocks_used"] > 0, 10)
        assert ok, m
        t_short = threading.Thread(target=lambda: short.update(
            r=s.post("/v1/completions", {"prompt": "Hi", "max_tokens": 8, "ignore_eos": True})))
        t_short.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert health_status(s.port) == 503  # still listening, draining
        status, body = s.post("/v1/completions", {"prompt": "Hi", "max_tokens": 4})
        assert status == 503, body
        t_short.join(timeout=10)
        assert short["r"][0] == 200  # finished during the drain: its reply arrives
        assert s.proc.wait(timeout=3 + 1.5) == 0
        elapsed = time.monotonic() - t0
        assert elapsed < 3 + 1.0, elapsed
        long_stream.settimeout(5)
        got = b""
        while chunk := long_stream.recv(65536):
            got += chunk
        assert b"shutting down" in got and b"[DONE]" in got, got[-400:]


def test_second_signal_exits_at_once(sluice_bin):
    with SluiceServer(sluice_bin, "--shutdown-timeout", "60") as s:
        sock = raw_post(s.port, "/v1/completions", LONG)
        ok, m = wait_for(s, lambda m: m["sluice_kv_cache_blocks_used"] > 0, 10)
        assert ok, m
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert s.alive()  # draining: waits for the request
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        s.proc.wait(timeout=2)
        assert time.monotonic() - t0 < 0.5
        sock.close()


def test_sigterm_when_idle_exits_zero_at_once(sluice_bin):
    with SluiceServer(sluice_bin) as s:
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=3) == 0
        assert time.monotonic() - t0 < 1.0
