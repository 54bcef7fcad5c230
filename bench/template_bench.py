#!/usr/bin/env python3
"""Chat-template render time: sluice vs Python jinja2 (Hugging Face's environment).

Renders the Qwen3 chat template for a 20-turn conversation (system prompt, 20 user turns, the
assistant answering each, every 4th answer a tool call with its tool result) with 10 tool
definitions and add_generation_prompt=True; both sides render the same context, are checked
to produce identical text, and are timed per render (template compiled once, outside the timing).

  .venv/bin/python bench/template_bench.py [--sluice build/release/sluice] [--n 2000]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "reference", "chat_template"))
from generate_goldens import make_env  # noqa: E402  (HF's jinja2 environment)


def tools():
    out = []
    for i in range(10):
        out.append({"type": "function", "function": {
            "name": f"tool_{i}",
            "description": f"Tool number {i}: does something useful with its arguments.",
            "parameters": {"type": "object", "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "limit": {"type": "integer", "description": "Max results", "default": 10},
                "tags": {"type": "array", "items": {"type": "string"}},
                "exact": {"type": "boolean", "description": "Exact match only"}},
                "required": ["query"]}}})
    return out


def conversation():
    msgs = [{"role": "system", "content": "You are a helpful assistant with tools."}]
    for t in range(20):
        msgs.append({"role": "user", "content": f"Turn {t}: please look up item {t} and "
                                                f"summarize what you find in a few sentences."})
        if t % 4 == 3:
            cid = f"call_{t}"
            msgs.append({"role": "assistant", "content": "",
                         "tool_calls": [{"id": cid, "type": "function", "function": {
                             "name": f"tool_{t % 10}",
                             "arguments": {"query": f"item {t}", "limit": 3, "exact": True}}}]})
            msgs.append({"role": "tool", "tool_call_id": cid,
                         "content": json.dumps({"results": [f"r{t}a", f"r{t}b"]})})
        msgs.append({"role": "assistant",
                     "content": f"Item {t} is a thing. " * 8,
                     "reasoning_content": f"The user asks about item {t}." if t == 19 else None})
    return msgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", default=os.path.join(REPO, "build", "release", "sluice"),
                    help="sluice binary (runs `sluice template ... --repeat N`)")
    ap.add_argument("--template", default=os.path.join(
        REPO, "..", "shared", "testdata", "tokenizers", "qwen3", "tokenizer_config.json"))
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()

    with open(args.template, encoding="utf-8") as f:
        cfg = json.load(f)
    source = cfg["chat_template"]
    messages, tool_defs = conversation(), tools()
    ctx = {"messages": messages, "tools": tool_defs, "documents": None,
           "add_generation_prompt": True, "eos_token": cfg["eos_token"]}

    env = make_env()
    compiled = env.from_string(source)
    expected = compiled.render(**ctx)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(args.n // 5):
            compiled.render(**ctx)
        times.append((time.perf_counter() - t0) / (args.n // 5))
    py_us = statistics.median(times) * 1e6

    with tempfile.TemporaryDirectory() as tmp:
        mpath, tpath = os.path.join(tmp, "messages.json"), os.path.join(tmp, "tools.json")
        with open(mpath, "w") as f:
            json.dump(messages, f)
        with open(tpath, "w") as f:
            json.dump(tool_defs, f)
        cmd = [args.sluice, "template", "-m", args.template, "--messages", mpath, "--tools",
               tpath, "--add-generation-prompt", "--repeat", str(args.n)]
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode != 0:
            sys.exit(f"sluice failed: {p.stderr.decode()}")
        same = p.stdout.decode("utf-8") == expected
        m = re.search(r"render ([0-9.]+) us/render", p.stderr.decode())
        sl_us = float(m.group(1))

    print(f"Qwen3 template, {len(messages)} messages (20 user turns), 10 tools, "
          f"{len(expected)} chars out; identical output: {same}")
    print(f"  python jinja2 (HF env): {py_us:9.1f} us/render")
    print(f"  sluice template       : {sl_us:9.1f} us/render   ({py_us / sl_us:.1f}x faster)")
    print(f"  command: {' '.join(os.path.relpath(c) if os.path.exists(c) else c for c in cmd[:2])} "
          f"... --repeat {args.n}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
