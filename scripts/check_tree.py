#!/usr/bin/env python3
"""Checks the shape of src/ that DESIGN.md asks for; exits 1 on any problem:
- no #include points up a layer (each layer may include the layers below it, transitively) or
  into a backend's internals (backend/cpu/, backend/cuda/) from outside backend/;
- no file over 30 KB (split it by concern);
- nothing but src/common/env.cc calls getenv (the one table of environment switches).
Run from anywhere."""
import pathlib
import re
import sys

# layer -> layers it depends on directly (mirrors CMakeLists.txt's sluice_layer lines)
DEPS = {
    "common": [],
    "formats": ["common"],
    "backend": ["common"],
    "jinja": ["common"],
    "tokenizer": ["formats", "jinja"],
    "model": ["backend", "formats", "tokenizer"],
    "kv": ["common"],
    "media": ["common"],
    "structured": ["tokenizer"],
    "parsers": ["structured"],
    "engine": ["kv", "model"],
    "api": ["engine", "parsers", "media"],
    "convert": ["model"],
    "cli": ["api", "convert"],
}


MAX_BYTES = 30 * 1024


def closure(layer, seen=None):
    seen = set() if seen is None else seen
    for d in DEPS[layer]:
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen


def main():
    src = pathlib.Path(__file__).resolve().parent.parent / "src"
    include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
    bad = []
    for f in sorted(src.rglob("*")):
        if f.suffix not in (".h", ".cc", ".cu", ".cuh") or f.parent == src:
            continue
        layer = f.relative_to(src).parts[0]
        if layer not in DEPS:
            bad.append(f"{f.relative_to(src)}: layer '{layer}' is not in scripts/check_layers.py")
            continue
        allowed = closure(layer) | {layer}
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = include.match(line)
            if m and m.group(1) in DEPS and m.group(1) not in allowed:
                bad.append(f"{f.relative_to(src)}:{n}: {layer} includes {m.group(1)}/ (up or across)")
            if layer != "backend" and re.match(r'^\s*#\s*include\s+"backend/(cpu|cuda)/', line):
                bad.append(f"{f.relative_to(src)}:{n}: a backend's internals, outside backend/")
    for f in sorted(src.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(src)
        if f.stat().st_size > MAX_BYTES:
            bad.append(f"{rel}: {f.stat().st_size} bytes, over {MAX_BYTES}: split it")
        if str(rel) != "common/env.cc" and "getenv(" in f.read_text(errors="replace"):
            bad.append(f"{rel}: calls getenv (add the switch to common/env.cc instead)")
    for b in bad:
        print(b)
    print(f"check_tree: {'FAIL' if bad else 'ok'} ({len(bad)} problems)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
