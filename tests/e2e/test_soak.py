"""A short soak: bench/soak.py's run_soak with 300 hostile bodies (mutated JSON of every POST route,
GET and unknown routes, wrong methods, client disconnects, SDK-style retries, 1 in 10 valid
requests) against the default model. No 5xx, no crash or hang, error bodies in each protocol's
shape, greedy outputs unchanged, no KV blocks held afterwards. RSS is not checked (too short a run);
the full run is `.venv/bin/python bench/soak.py`.
"""
from __future__ import annotations

import sys

from e2e_util import REPO
from server_util import SluiceServer

sys.path.insert(0, str(REPO / "bench"))
import soak  # noqa: E402


def test_soak_300_bodies(sluice_bin, smollm2_path, record):
    with SluiceServer(sluice_bin, "-m", str(smollm2_path), *soak.SERVER_ARGS) as server:
        rep = soak.run_soak(server, bodies=300, seed=0, workers=8, settle=False)
    record(f"soak: {rep.bodies} bodies, {rep.requests} requests in {rep.seconds:.0f} s, crashed: {rep.crashed}, "
           f"statuses {dict(sorted(rep.statuses.items(), key=str))}, KV blocks held {rep.kv_blocks_before:g} -> "
           f"{rep.kv_blocks_after:g}")
    assert not rep.crashed, f"server exited {rep.server_exit}; requests in flight:\n{show(rep.cut_by_crash)}"
    assert not rep.server_errors, show(rep.server_errors)
    assert not rep.malformed_errors, show(rep.malformed_errors)
    assert not rep.outputs_changed, rep.outputs_changed
    assert rep.leaked_blocks == 0 and rep.idle, (rep.kv_blocks_before, rep.kv_blocks_after, rep.idle)
    assert rep.failures(enforce_rss=False) == [], show([e for _, e in rep.failed_requests()])


def show(entries: list[dict]) -> str:
    return "\n".join(soak.describe(e) for e in entries[:10])
