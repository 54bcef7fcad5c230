"""Mask computation time per token per sequence: sluice vs xgrammar (Qwen3 tokenizer).

Both run random walks over the same schemas (random allowed token each step; end-of-generation
taken with probability 1/2 when allowed; half the picks prefer tokens of <= 2 bytes so walks end),
single-threaded, timing only the mask fill. The first walk is reported apart ("cold": sluice fills
its per-node cache lazily during it; xgrammar precomputes at compile time, timed as compile_ms).

    .venv/bin/python bench/structured_bench.py [--sluice build/helper-structured/sluice]

xgrammar comes from bench/requirements.txt (installed --no-deps; see there). Prints a table and
writes bench/results/structured_bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("SLUICE_TESTDATA", REPO.parent / "shared" / "testdata"))
TOKENIZER = TESTDATA / "tokenizers" / "qwen3" / "tokenizer.json"
SCHEMAS = {
    "simple_flat": REPO / "tests/data/json_schemas/49_tool_call_args.json",
    "nested_ref": REPO / "tests/data/json_schemas/50_pydantic_style.json",
    "array_heavy": REPO / "tests/data/json_schemas/51_inventory_array_heavy.json",
}


def import_xgrammar():
    """xgrammar imports torch only for tensor types; stand in a stub when torch is absent."""
    try:
        import torch  # noqa: F401
    except ImportError:
        class _Any:
            def __init__(self, *a, **k): pass
            def __call__(self, *a, **k): return _Any()
            def __getattr__(self, name): return _Any()
            def __getitem__(self, k): return _Any()
            def __or__(self, other): return _Any()
            __ror__ = __or__
        stub = types.ModuleType("torch")
        stub.__getattr__ = lambda name: _Any if name[:1].isupper() else _Any()
        stub.__path__ = []
        sys.modules["torch"] = stub
    import xgrammar
    return xgrammar


def stats(us: list[float]) -> dict:
    a = np.sort(np.asarray(us, dtype=np.float64))
    if a.size == 0:
        return {"mean_us": 0, "p50_us": 0, "p99_us": 0, "max_us": 0}
    q = lambda p: float(a[min(a.size - 1, int(p * (a.size - 1) + 0.5))])
    return {"mean_us": float(a.mean()), "p50_us": q(0.5), "p99_us": q(0.99), "max_us": q(1.0)}


def bench_sluice(binary: str, schema: Path, walks: int, seed: int) -> dict:
    r = subprocess.run([binary, "grammar", "--bench", "--schema", str(schema), "--tokenizer",
                        str(TOKENIZER), "--bench-walks", str(walks), "--seed", str(seed)],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def bench_xgrammar(xgr, tok_info, token_len, schema: Path, walks: int, seed: int,
                   max_tokens: int = 2000) -> dict:
    compiler = xgr.GrammarCompiler(tok_info, max_threads=1, cache_enabled=False)
    t0 = time.perf_counter()
    compiled = compiler.compile_json_schema(schema.read_text(), any_whitespace=True, strict_mode=True)
    compile_ms = (time.perf_counter() - t0) * 1e3
    vocab = tok_info.vocab_size
    words = (vocab + 31) // 32
    stop_ids = set(tok_info.stop_token_ids)
    rng = random.Random(seed)
    cold, warm, tokens, finished = [], [], 0, 0
    for w in range(walks):
        m = xgr.GrammarMatcher(compiled)
        bitmask = np.zeros((1, words), dtype=np.int32)
        times = cold if w == 0 else warm
        for _ in range(max_tokens):
            t = time.perf_counter()
            m.fill_next_token_bitmask(bitmask)
            times.append((time.perf_counter() - t) * 1e6)
            bits = np.unpackbits(bitmask[0].view(np.uint8), bitorder="little")[:vocab]
            allowed = np.flatnonzero(bits)
            eog = [i for i in allowed if i in stop_ids]
            rest = [int(i) for i in allowed if i not in stop_ids]
            if eog and (not rest or rng.random() < 0.5):
                finished += 1
                break
            short = [i for i in rest if token_len[i] <= 2]
            pool = short if short and rng.random() < 0.5 else rest
            tok = rng.choice(pool)
            assert m.accept_token(tok)
            tokens += 1
    out = {"compile_ms": compile_ms, "walks": walks, "finished": finished, "tokens": tokens,
           "cold_mean_us": stats(cold)["mean_us"], "cold_max_us": stats(cold)["max_us"]}
    out.update(stats(warm))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", default=str(REPO / "build" / "helper-structured" / "sluice"))
    ap.add_argument("--walks", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from transformers import PreTrainedTokenizerFast  # before the torch stand-in
    hf = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER))
    xgr = import_xgrammar()
    tok_info = xgr.TokenizerInfo.from_huggingface(hf, stop_token_ids=[151643, 151645])
    token_len = [len(t.encode("utf-8", "surrogatepass")) if isinstance(t, str) else len(t)
                 for t in tok_info.decoded_vocab]

    results = {"tokenizer": str(TOKENIZER.relative_to(TESTDATA)), "xgrammar": xgr.__version__
               if hasattr(xgr, "__version__") else "?", "command": " ".join(sys.argv), "schemas": {}}
    for name, path in SCHEMAS.items():
        s = bench_sluice(args.sluice, path, args.walks, args.seed)
        x = bench_xgrammar(xgr, tok_info, token_len, path, args.walks, args.seed)
        results["schemas"][name] = {"schema": path.name, "sluice": s, "xgrammar": x}

    print(f"{'schema':<12} {'engine':<9} {'mean_us':>9} {'p50_us':>8} {'p99_us':>9} {'max_us':>9} "
          f"{'cold_mean':>10} {'compile_ms':>10} {'tokens':>7}")
    for name, r in results["schemas"].items():
        for eng in ("sluice", "xgrammar"):
            e = r[eng]
            print(f"{name:<12} {eng:<9} {e['mean_us']:>9.1f} {e['p50_us']:>8.1f} {e['p99_us']:>9.1f} "
                  f"{e['max_us']:>9.1f} {e['cold_mean_us']:>10.1f} {e['compile_ms']:>10.1f} "
                  f"{e['tokens']:>7}")
    out = REPO / "bench" / "results" / "structured_bench.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
