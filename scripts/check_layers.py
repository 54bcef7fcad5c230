#!/usr/bin/env python3
"""Fails when an #include in src/ points up a layer (DESIGN.md: dependencies only point down).

Each layer lists the layers it may include, transitively closed below. Run from anywhere."""
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
    "structured": ["tokenizer"],
    "parsers": ["structured"],
    "engine": ["kv", "model"],
    "api": ["engine", "parsers"],
    "convert": ["model"],
    "cli": ["api", "convert"],
}


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
    for b in bad:
        print(b)
    print(f"check_layers: {'FAIL' if bad else 'ok'} ({len(bad)} problems)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
