"""Per-round numbers, medians over rounds, the issue's three ratios, and Markdown tables."""
from __future__ import annotations

import statistics

from bench.peers.stats import fmt

TARGETS = {"cold_over_final": 10.0, "llama_over_sluice_later": 5.0, "decode_sluice_over_llama": 1.1}


def _med(xs) -> float | None:
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else None


def _rate(row: dict) -> float | None:
    t = row.get("tpot_s")
    return 1 / t if row.get("ok") and t and t == t and t > 0 else None


def server_numbers(rec: dict) -> dict:
    """One server's numbers of one round (requests that failed are left out)."""
    if "turns" not in rec:
        return {}
    ok = [t for t in rec["turns"] if t["ok"]]
    later = [t for t in ok if t["turn"] >= 1]
    final = [t for t in ok if t["turn"] == len(rec["turns"]) - 1]
    cold = [c["ttft_s"] for c in rec.get("cold", []) if c["ok"]]
    n = {"ttft_turn0_s": _med([t["ttft_s"] for t in ok if t["turn"] == 0]),
         "ttft_later_p50_s": _med([t["ttft_s"] for t in later]),
         "ttft_final_s": final[0]["ttft_s"] if final else None,
         "ttft_cold_final_prompt_s": _med(cold),
         "final_prompt_tokens": final[0]["prompt_tokens"] if final else None,
         "cached_share_later_p50": _med([t["cached_tokens"] / t["prompt_tokens"] for t in later
                                         if t["cached_tokens"] is not None and t["prompt_tokens"]]),
         "uncached_tokens_later_p50": _med([t["prompt_tokens"] - t["cached_tokens"] for t in later
                                            if t["cached_tokens"] is not None and t["prompt_tokens"]]),
         "decode_tok_s": _med([_rate(d) for d in rec.get("decode", [])]),
         "session_decode_tok_s": _med([_rate(t) for t in later])}
    c, f = n["ttft_cold_final_prompt_s"], n["ttft_final_s"]
    n["cold_over_final"] = c / f if c and f else None
    return n


def _ratios(s: dict, l: dict) -> dict:
    div = lambda x, y: x / y if x and y else None  # noqa: E731
    return {"cold_over_final": s.get("cold_over_final"),
            "llama_over_sluice_later": div(l.get("ttft_later_p50_s"), s.get("ttft_later_p50_s")),
            "llama_over_sluice_final": div(l.get("ttft_final_s"), s.get("ttft_final_s")),
            "decode_sluice_over_llama": div(s.get("decode_tok_s"), l.get("decode_tok_s"))}


def summarize(result: dict) -> dict:
    per_round = []
    for rnd in result["rounds"]:
        nums = {name: server_numbers(rec) for name, rec in rnd["servers"].items()}
        per_round.append({"order": rnd["order"], "numbers": nums,
                          "ratios": _ratios(nums.get("sluice", {}), nums.get("llama.cpp", {}))})
    names = list(result["rounds"][0]["servers"]) if result["rounds"] else []
    keys = sorted({k for r in per_round for n in r["numbers"].values() for k in n})
    medians = {name: {k: _med([r["numbers"][name].get(k) for r in per_round]) for k in keys} for name in names}
    ratio_keys = per_round[0]["ratios"].keys() if per_round else []
    return {"per_round": per_round, "median": medians,
            "ratios_median_of_rounds": {k: _med([r["ratios"][k] for r in per_round]) for k in ratio_keys}}


def _x(v) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


def tables(result: dict) -> str:
    s = result["summary"]
    med, ratios = s["median"], s["ratios_median_of_rounds"]
    sl, ll = med.get("sluice", {}), med.get("llama.cpp", {})
    cfg, tok = result["config"], result["session_tokens"]
    ms = lambda v: fmt(v * 1e3 if v is not None else None, nd=0)  # noqa: E731
    lines = [f"# Hybrid agent session: {result['model'].rsplit('/', 1)[-1]} ({result['device']}, "
             f"{result['threads']} threads), {cfg['rounds']} rounds, median of rounds",
             "",
             f"Session: system prompt {tok['system']} tokens, {cfg['turns']} turns, messages {tok['messages']} "
             f"tokens, {cfg['reply_tokens']}-token greedy replies; the next turn appends "
             + ("each server's own reply" if cfg.get("replies", "model") == "model" else "a fixed tool call")
             + f"; decode {cfg['decode_tokens']} tokens.",
             "",
             "| | sluice | llama.cpp | ratio | target |",
             "| --- | --- | --- | --- | --- |"]
    rows = [("TTFT turn 0 (system prompt cold), ms", "ttft_turn0_s"),
            ("TTFT later turns (1..), p50 ms", "ttft_later_p50_s"),
            ("TTFT final turn, ms", "ttft_final_s"),
            ("TTFT final turn's prompt cold, ms", "ttft_cold_final_prompt_s")]
    for label, k in rows:
        r = ratios.get("llama_over_sluice_later") if k == "ttft_later_p50_s" else None
        lines.append(f"| {label} | {ms(sl.get(k))} | {ms(ll.get(k))} | "
                     + (f"llama.cpp / sluice {_x(r)} | >= 5x (2) |" if k == "ttft_later_p50_s" else " | |"))
    lines += [f"| cold / final turn (same prompt) | {_x(sl.get('cold_over_final'))} | {_x(ll.get('cold_over_final'))}"
              f" | | sluice >= 10x (1) |",
              f"| final prompt tokens (server's count) | {fmt(sl.get('final_prompt_tokens'), nd=0)} | "
              f"{fmt(ll.get('final_prompt_tokens'), nd=0)} | | |",
              f"| later turns: cached share p50 | {fmt(_pct(sl.get('cached_share_later_p50')), '%')} | "
              f"{fmt(_pct(ll.get('cached_share_later_p50')), '%')} | | |",
              f"| later turns: uncached tokens p50 | {fmt(sl.get('uncached_tokens_later_p50'), nd=0)} | "
              f"{fmt(ll.get('uncached_tokens_later_p50'), nd=0)} | | |",
              f"| decode tok/s ({cfg['decode_tokens']} tokens, short prompt) | {fmt(sl.get('decode_tok_s'), nd=2)} | "
              f"{fmt(ll.get('decode_tok_s'), nd=2)} | sluice / llama.cpp {_x(ratios.get('decode_sluice_over_llama'))}"
              f" | >= 1.1x (3) |",
              f"| decode tok/s in the session (later turns' replies) | {fmt(sl.get('session_decode_tok_s'), nd=2)} | "
              f"{fmt(ll.get('session_decode_tok_s'), nd=2)} | | |",
              "",
              "Per round (ratios of the same round's numbers):",
              "",
              "| round | order | (1) sluice cold / final | (2) llama.cpp / sluice, later turns | final turn | "
              "(3) decode sluice / llama.cpp |",
              "| --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(s["per_round"]):
        q = r["ratios"]
        lines.append(f"| {i + 1} | {' then '.join(r['order'])} | {_x(q['cold_over_final'])} | "
                     f"{_x(q['llama_over_sluice_later'])} | {_x(q['llama_over_sluice_final'])} | "
                     f"{_x(q['decode_sluice_over_llama'])} |")
    lines += ["", "Per turn (round 1): prompt tokens / cached tokens / TTFT ms", "",
              "| turn | " + " | ".join(result["rounds"][0]["servers"]) + " |",
              "| --- |" + " --- |" * len(result["rounds"][0]["servers"])]
    recs = result["rounds"][0]["servers"]
    for t in range(cfg["turns"]):
        cells = []
        for rec in recs.values():
            row = next((x for x in rec.get("turns", []) if x["turn"] == t), None)
            cells.append("n/a" if row is None else
                         f"{row['prompt_tokens']} / {row['cached_tokens']} / {ms(row['ttft_s'] if row['ok'] else None)}")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    verdicts = [("(1) later turns vs cold, sluice", ratios.get("cold_over_final"), TARGETS["cold_over_final"]),
                ("(2) later turns vs llama.cpp", ratios.get("llama_over_sluice_later"), TARGETS["llama_over_sluice_later"]),
                ("(3) decode vs llama.cpp", ratios.get("decode_sluice_over_llama"), TARGETS["decode_sluice_over_llama"])]
    lines += ["", "Targets (median of rounds): " + "; ".join(
        f"{name}: {_x(v)} ({'met' if v is not None and v >= want else 'MISSED'}, >= {want}x)"
        for name, v, want in verdicts)]
    bad = [f"round {i + 1} {n}: {rec['status']} {rec.get('reason') or rec.get('problems')}"
           for i, rnd in enumerate(result["rounds"]) for n, rec in rnd["servers"].items() if rec.get("status") != "OK"]
    if bad:
        lines += ["", "FAILING:", *[f"- {b}" for b in bad]]
    return "\n".join(lines) + "\n"


def _pct(v):
    return None if v is None else 100 * v
