"""Markdown tables (sluice / peer ratios, targets) and PNG plots from the result dict."""
from __future__ import annotations

from pathlib import Path

from .stats import fmt

PEERS = ("llama.cpp", "mlx-lm")


def _cell(srv: dict, path: list[str]):
    """srv[path...] or the reason it is missing."""
    if srv.get("status") == "n/a":
        return None, "n/a"
    x = srv
    for p in path[:-1]:
        x = (x or {}).get(p)
        if x is None:
            return None, "FAILING" if srv.get("status") == "FAILING" else "n/a"
    if isinstance(x, dict) and x.get("status") == "FAILING" and path[-1] != "status":
        return None, "FAILING"
    v = x.get(path[-1]) if isinstance(x, dict) else None
    if isinstance(v, dict):
        v = v.get("p50")
    return v, None


def _val(srv: dict, path: list[str], scale: float, nd: int) -> tuple[float | None, str]:
    v, why = _cell(srv, path)
    if why:
        return None, why
    if v is None:
        return None, "n/a"
    return v * scale, fmt(v * scale, nd=nd)


def rows_for(m: dict) -> list[tuple[str, list[str], float, int, str]]:
    """(label, path into a server's record, scale, decimals, better)."""
    prof = m["profile"]
    rows = []
    for n_in, n_out, n in prof["fixed"]:
        k = f"{n_in}/{n_out}"
        rows += [(f"fixed {k}, c=1 ({n} req): TTFT p50 ms", ["fixed", k, "ttft_s"], 1e3, 0, "lower"),
                 (f"fixed {k}, c=1: TPOT p50 ms", ["fixed", k, "tpot_s"], 1e3, 1, "lower"),
                 (f"fixed {k}, c=1: output tok/s", ["fixed", k, "output_tok_s"], 1, 1, "higher")]
    si, so = prof["sweep_shape"]
    for c, n in prof["sweep"].items():
        c = str(c)
        rows += [(f"sweep {si}/{so}, c={c} ({n} req): output tok/s", ["sweep", c, "output_tok_s"], 1, 1, "higher"),
                 (f"sweep c={c}: total tok/s", ["sweep", c, "total_tok_s"], 1, 1, "higher"),
                 (f"sweep c={c}: requests/s", ["sweep", c, "requests_per_s"], 1, 2, "higher"),
                 (f"sweep c={c}: TTFT p50 ms", ["sweep", c, "ttft_s"], 1e3, 0, "lower"),
                 (f"sweep c={c}: TTFT p99 ms", ["sweep", c, "ttft_s", "p99"], 1e3, 0, "lower"),
                 (f"sweep c={c}: ITL p50 ms", ["sweep", c, "itl_s"], 1e3, 1, "lower"),
                 (f"sweep c={c}: ITL p99 ms", ["sweep", c, "itl_s", "p99"], 1e3, 1, "lower"),
                 (f"sweep c={c}: TPOT mean ms", ["sweep", c, "tpot_s", "mean"], 1e3, 1, "lower"),
                 (f"sweep c={c}: E2E p50 s", ["sweep", c, "e2e_s"], 1, 2, "lower")]
    if prof.get("agent"):
        rows += [("agent: TTFT turn 1, cold ms", ["agent", "ttft_first_turn_cold_s"], 1e3, 0, "lower"),
                 ("agent: TTFT turn 1, system prompt shared ms", ["agent", "ttft_first_turn_shared_system_s"], 1e3, 0, "lower"),
                 ("agent: TTFT later turns p50 ms", ["agent", "ttft_later_turns_p50_s"], 1e3, 0, "lower"),
                 ("agent: TTFT last turn p50 ms", ["agent", "ttft_last_turn_p50_s"], 1e3, 0, "lower"),
                 ("agent: TTFT cold, same length p50 ms", ["agent", "ttft_cold_same_length_p50_s"], 1e3, 0, "lower"),
                 ("agent: cold / last-turn TTFT (x)", ["agent", "cold_over_last_turn"], 1, 1, "higher"),
                 ("agent: prefix-cache hit rate", ["agent", "prefix_cache_hit_rate"], 100, 0, "higher"),
                 ("agent: output tok/s", ["agent", "output_tok_s"], 1, 1, "higher")]
    rows += [("peak RSS MiB", ["peak_rss_mib"], 1, 0, "lower")]
    return rows


def _get(srv: dict, path: list[str], scale: float, nd: int):
    if len(path) == 4:  # an explicit statistic of a distribution, e.g. [..., "ttft_s", "p99"]
        x = srv
        for p in path[:3]:
            x = (x or {}).get(p) if isinstance(x, dict) else None
        if srv.get("status") == "n/a":
            return None, "n/a"
        if x is None:
            return None, "FAILING" if srv.get("status") == "FAILING" else "n/a"
        cell = srv.get(path[0], {}).get(path[1], {})
        if cell.get("status") == "FAILING":
            return None, "FAILING"
        v = x.get(path[3])
        return (v * scale, fmt(v * scale, nd=nd)) if v is not None else (None, "n/a")
    return _val(srv, path, scale, nd)


def _rounds(m: dict) -> list[dict]:
    return m.get("rounds") or [m["servers"]]


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _ratios(m: dict, peer: str, path: list[str], scale: float = 1, nd: int = 3) -> list[float]:
    """sluice / peer, one per round where both have the value."""
    out = []
    for rnd in _rounds(m):
        if "sluice" in rnd and peer in rnd:
            s, q = _get(rnd["sluice"], path, scale, nd)[0], _get(rnd[peer], path, scale, nd)[0]
            if s is not None and q not in (None, 0):
                out.append(s / q)
    return out


def model_table(m: dict) -> str:
    """Values: the median over rounds; ratios: each round's (sluice / peer), in round order."""
    rounds = _rounds(m)
    names = [n for n in ("sluice", *PEERS) if n in rounds[0]]
    peers = [p for p in PEERS if p in rounds[0]]
    head = ["metric", *names, *[f"sluice / {p}" + (" (each round)" if len(rounds) > 1 else "") for p in peers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for label, path, scale, nd, better in rows_for(m):
        cells = []
        for n in names:
            got = [_get(r[n], path, scale, nd) for r in rounds]
            vals = [v for v, _ in got if v is not None]
            cells.append(fmt(_median(vals), nd=nd) if vals else got[0][1])
        for p in peers:
            rs = _ratios(m, p, path, scale, nd)
            cells.append(" / ".join(f"{r:.2f}" for r in rs) if rs else "–")
        lines.append(f"| {label}{' (lower is better)' if better == 'lower' and 'RSS' not in label else ''} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(m: dict) -> str:
    def verdict(rs, goal):
        return "n/a" if not rs else ("met" if min(rs) >= goal else "**not met**")

    def shown(rs):
        return "n/a" if not rs else (f"{min(rs):.2f}x" if len(rs) == 1 else f"{min(rs):.2f}–{max(rs):.2f}x")

    c16 = ["sweep", "16", "output_tok_s"]
    ag = [v for v in (_get(r["sluice"], ["agent", "cold_over_last_turn"], 1, 3)[0] for r in _rounds(m) if "sluice" in r)
          if v is not None]
    rows = [("single stream (c=1 output tok/s) vs llama.cpp", _ratios(m, "llama.cpp", ["sweep", "1", "output_tok_s"]), 1.0),
            ("aggregate output tok/s at c=16 vs llama.cpp", _ratios(m, "llama.cpp", c16), 2.0),
            ("aggregate output tok/s at c=16 vs mlx-lm", _ratios(m, "mlx-lm", c16), 2.0),
            ("agent: TTFT of the last turn vs a cold prompt of its length (sluice)", ag, 5.0)]
    out = ["| target | goal | measured (over rounds) | verdict |", "|---|---:|---:|---|"]
    for label, rs, goal in rows:
        out.append(f"| {label} | ≥ {goal:g}x | {shown(rs)} | {verdict(rs, goal)} |")
    return "\n".join(out)


def notes(m: dict) -> str:
    out = []
    for n, s in ((n, s) for r in _rounds(m) for n, s in r.items()):
        if s.get("status") in ("n/a", "FAILING") and s.get("reason"):
            out.append(f"- {n}: {s['status']}: {s['reason']}")
        for part in ("fixed", "sweep"):
            for k, cell in (s.get(part) or {}).items():
                if cell.get("status") == "FAILING":
                    out.append(f"- {n} {part} {k}: FAILING ({cell['num_problems']} problems), e.g. {cell['problems'][:2]}")
        ag = s.get("agent")
        if ag and ag.get("status") == "FAILING":
            out.append(f"- {n} agent: FAILING ({ag['num_problems']} problems), e.g. {ag['problems'][:2]}")
    if any("mlx-lm" in r for r in _rounds(m)):
        out.append(f"- MLX twin: {m['mlx_note']}")
    return "\n".join(out)


def tables(result: dict) -> str:
    parts = []
    for m in result["models"]:
        parts += [f"\n### {m['label']}\n", model_table(m), "", "Targets:\n", targets_table(m), "", notes(m)]
    return "\n".join(parts) + "\n"


def plots(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"sluice": "tab:blue", "llama.cpp": "tab:orange", "mlx-lm": "tab:green"}
    models = result["models"]
    # Throughput vs concurrency.
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2), squeeze=False)
    for ax, m in zip(axes[0], models):
        for n, s in m["servers"].items():
            xs, ys = [], []
            for c, cell in (s.get("sweep") or {}).items():
                if cell.get("status") == "OK":
                    xs.append(int(c))
                    ys.append(cell["output_tok_s"])
            if xs:
                ax.plot(xs, ys, "o-", label=n, color=colors.get(n))
        si, so = m["profile"]["sweep_shape"]
        ax.set(xscale="log", xlabel="concurrent requests", ylabel="output tokens/s",
               title=f"{m['label']}\n{si} prompt / {so} output tokens")
        ax.set_xticks([int(c) for c in m["profile"]["sweep"]], [str(c) for c in m["profile"]["sweep"]])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=110)
    plt.close(fig)

    # TTFT distributions: per concurrency level (box plots, log scale) and the agent's turns.
    fig, axes = plt.subplots(2, len(models), figsize=(6.5 * len(models), 8), squeeze=False)
    for col, m in enumerate(models):
        ax = axes[0][col]
        names = [n for n in m["servers"] if m["servers"][n].get("sweep")]
        levels = list(m["profile"]["sweep"])
        width = 0.8 / max(1, len(names))
        for i, n in enumerate(names):
            data, pos = [], []
            for j, c in enumerate(levels):
                cell = m["servers"][n]["sweep"].get(str(c), {})
                xs = [r["ttft"] * 1e3 for r in cell.get("raw", []) if r.get("ttft") == r.get("ttft") and r.get("ttft")]
                if xs and cell.get("status") == "OK":
                    data.append(xs)
                    pos.append(j + (i - (len(names) - 1) / 2) * width)
            if data:
                bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True)
                for patch in bp["boxes"]:
                    patch.set_facecolor(colors.get(n))
                    patch.set_alpha(0.6)
                ax.plot([], [], "s", color=colors.get(n), label=n)
        ax.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
        ax.set(yscale="log", ylabel="TTFT ms", title=f"{m['label']}: TTFT by concurrency")
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
        ax = axes[1][col]
        for n, s in m["servers"].items():
            ag = s.get("agent")
            if not ag or not ag.get("turns"):
                continue
            pts = [(x["prompt_tokens"], x["ttft"] * 1e3) for x in ag["turns"] if x.get("ttft")]
            cold = [(x["prompt_tokens"] or 0, x["ttft"] * 1e3) for x in ag.get("cold", []) if x.get("ttft")]
            if pts:
                ax.plot(*zip(*pts), "o", color=colors.get(n), label=f"{n}: agent turns")
            if cold:
                if any(p == 0 for p, _ in cold) and pts:  # no usage: place at the last turn's length
                    cold = [(max(p for p, _ in pts), t) for _, t in cold]
                ax.plot(*zip(*cold), "x", ms=10, mew=2, color=colors.get(n), label=f"{n}: cold, same length")
        ax.set(yscale="log", xlabel="prompt tokens", ylabel="TTFT ms",
               title=f"{m['label']}: agent sessions (turns grow right)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "ttft.png", dpi=110)
    plt.close(fig)
