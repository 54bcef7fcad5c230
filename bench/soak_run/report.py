"""The soak's report: counts, the failed checks with their requests, a table and JSON."""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from .http_io import HANG_S

IDLE_S = 30.0          # how long the server may take to drain after the main phase
RSS_LIMIT_PCT = 5.0
RSS_MIN_BODIES = 2000  # shorter runs are too noisy for the RSS check


@dataclass
class Report:
    bodies: int = 0                      # main-phase jobs run
    requests: int = 0                    # HTTP requests sent, all phases
    jobs_by_kind: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)     # 5xx
    malformed_errors: list = field(default_factory=list)  # 4xx bodies not in the protocol's shape
    malformed_ok: list = field(default_factory=list)      # 2xx bodies that do not parse or end
    no_answer: list = field(default_factory=list)         # connection dropped without a status
    hangs: list = field(default_factory=list)
    unexpected_status: list = field(default_factory=list)  # valid requests not 200, over-cap not 413
    outputs_changed: list = field(default_factory=list)
    crashed: bool = False
    server_exit: int | None = None
    cut_by_crash: list = field(default_factory=list)      # requests in flight when the server died
    server_stderr_tail: list = field(default_factory=list)
    idle: bool = True
    kv_blocks_before: float = 0.0
    kv_blocks_after: float = 0.0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    rss_trace_mib: list = field(default_factory=list)     # (when, MiB) at each baseline re-run
    slowest: list = field(default_factory=list)           # (seconds, route, detail), the 5 slowest
    seconds: float = 0.0

    @property
    def leaked_blocks(self) -> float:
        return self.kv_blocks_after - self.kv_blocks_before

    @property
    def rss_growth_pct(self) -> float:
        return 100.0 * (self.rss_after_kib - self.rss_before_kib) / max(self.rss_before_kib, 1)

    def failures(self, enforce_rss: bool) -> list[str]:
        counts = [(self.server_errors, "5xx responses"), (self.hangs, "hangs"),
                  (self.no_answer, "requests without an answer"), (self.malformed_errors, "malformed error bodies"),
                  (self.malformed_ok, "malformed 2xx bodies"), (self.unexpected_status, "unexpected statuses"),
                  (self.outputs_changed, "outputs changed")]
        out = [f"{len(entries)} {what}" for entries, what in counts if entries]
        if self.crashed:
            out.append(f"server crashed (exit {self.server_exit})")
        if self.leaked_blocks > 0:
            out.append(f"{self.leaked_blocks:g} leaked KV blocks")
        if not self.idle:
            out.append(f"server not idle {IDLE_S:g} s after the main phase")
        if enforce_rss and self.rss_growth_pct >= RSS_LIMIT_PCT:
            out.append(f"RSS grew {self.rss_growth_pct:.1f}%")
        return out

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.update(statuses={str(k): v for k, v in sorted(self.statuses.items(), key=str)},
                   jobs_by_kind=dict(sorted(self.jobs_by_kind.items())), leaked_blocks=self.leaked_blocks,
                   rss_growth_pct=round(self.rss_growth_pct, 2))
        return out

    def table(self) -> str:
        measured = self.rss_after_kib > 0  # not after a crash
        rows = [
            ("bodies sent (main phase)", self.bodies), ("HTTP requests, all phases", self.requests),
            ("jobs by kind", " ".join(f"{k}:{v}" for k, v in sorted(self.jobs_by_kind.items()))),
            ("status histogram", " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items(), key=str))),
            ("5xx", len(self.server_errors)), ("malformed error bodies", len(self.malformed_errors)),
            ("malformed 2xx bodies", len(self.malformed_ok)), ("no answer", len(self.no_answer)),
            (f"hangs (> {HANG_S:g} s)", len(self.hangs)), ("unexpected status", len(self.unexpected_status)),
            ("crashed", f"yes, exit {self.server_exit}, {len(self.cut_by_crash)} requests in flight"
                        if self.crashed else "no"),
            ("outputs changed", len(self.outputs_changed)), ("idle after", self.idle if measured else "n/a"),
            ("KV blocks held before / after", f"{self.kv_blocks_before:g} / {self.kv_blocks_after:g} "
                                              f"(leaked {self.leaked_blocks:g})" if measured else "n/a"),
            ("RSS before / after", f"{self.rss_before_kib / 1024:.1f} / {self.rss_after_kib / 1024:.1f} MiB "
                                   f"({self.rss_growth_pct:+.2f}%)" if measured else "n/a"),
            ("RSS at 1/4, 1/2, 3/4, end", " ".join(f"{m:.0f}" for _, m in self.rss_trace_mib) + " MiB"
                                          if self.rss_trace_mib else "n/a"),
            ("slowest requests", "; ".join(f"{s:.1f} s {r} {d}" for s, r, d in self.slowest[:3])),
            ("duration", f"{self.seconds:.0f} s"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def failed_requests(self) -> list[tuple[str, dict]]:
        """(check, entry) for every request filed under a failed check."""
        lists = [("in flight at the crash", self.cut_by_crash), ("5xx", self.server_errors),
                 ("malformed error body", self.malformed_errors), ("malformed 2xx body", self.malformed_ok),
                 ("no answer", self.no_answer), ("hang", self.hangs), ("unexpected status", self.unexpected_status)]
        return [(name, e) for name, entries in lists for e in entries]


def describe(entry: dict) -> str:
    """One line for a failed request: what was sent and what came back."""
    return (f"#{entry['index']} {entry['method']} {entry['route'][:80]} ({entry['kind']} {entry['detail']}) -> "
            f"{entry['status']} {entry['error']} {entry['answer_head'][:80]}; sent {entry['body_head'][:200]}")
