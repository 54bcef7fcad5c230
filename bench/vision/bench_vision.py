#!/usr/bin/env python3
"""Gemma 3 vision tower on the CPU: `sluice vision-embed` vs llama.cpp's libmtmd (llama-cpp-python)
on the same random mmproj (`make-model --vision gemma3-4b`: SigLIP-so400m, 896 px, 27 layers,
f16 as llama.cpp's converter writes it) and the same 896x896 image, same thread count.

    .venv/bin/python bench/vision/bench_vision.py [--threads N] [--reps 2] [--layers 27]

Each engine encodes the image --repeat 2 times in one process and reports the second encode (the
first also allocates buffers); engines alternate over --reps processes; the table shows medians,
the ratio (sluice / llama.cpp, below 1 is faster) and the rel L2 between their soft tokens.
Everything goes to bench/results/vision.json with the command, CPU, load average and revision.
Run on an idle machine: ggml's threads spin while waiting, so shared cores slow llama.cpp more.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "reference"))
from gguf_lite import GgufLite  # noqa: E402


def run(args, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{r.stderr[-3000:]}")
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--layers", type=int, default=27)
    ap.add_argument("--sluice", default=os.environ.get("SLUICE_BIN", REPO / "build" / "release" / "sluice"))
    ap.add_argument("--models-dir", default="/tmp/sluice-bench-models")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f}: other processes share the cores", file=sys.stderr)

    d = Path(args.models_dir)
    d.mkdir(parents=True, exist_ok=True)
    text, mmproj = d / "vision-text-tiny.gguf", d / f"vision-gemma3-4b-l{args.layers}-f16.gguf"
    if not mmproj.exists():
        run([args.sluice, "make-model", "--arch", "gemma3", "--preset", "tiny", "-o", text,
             "--vision", "gemma3-4b", "--vision-layers", args.layers, "--mmproj", mmproj])
    from PIL import Image

    s = int(GgufLite(str(mmproj)).metadata["clip.vision.image_size"])
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:s, 0:s]
    img = np.stack([x * 255 / (s - 1), y * 255 / (s - 1), (x + y) * 255 / (2 * s - 2)], -1)
    png, pixels = d / "vision-image.png", d / "vision-image.f32"
    Image.fromarray(np.clip(img + rng.normal(0, 20, (s, s, 3)), 0, 255).astype(np.uint8)).save(png)
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / 255
    ((rgb - 0.5) / 0.5).transpose(2, 0, 1).astype("<f4").tofile(pixels)

    ms = {"sluice": [], "llama.cpp": []}
    for _ in range(args.reps):
        r = run([args.sluice, "vision-embed", "--mmproj", mmproj, "--pixels", pixels, "-o", d / "s.f32",
                 "--threads", args.threads, "--repeat", 2])
        ms["sluice"].append(float(re.search(r"in ([0-9.]+) ms", r.stderr).group(1)))
        r = run([sys.executable, REPO / "tests" / "reference" / "mtmd_image_embeddings.py", "--model", text,
                 "--mmproj", mmproj, "--image", png, "-o", d / "m.f32", "--threads", args.threads,
                 "--repeat", 2])
        ms["llama.cpp"].append(float(re.search(r"ms ([0-9.]+)", r.stdout).group(1)))
    a, b = np.fromfile(d / "s.f32", "<f4"), np.fromfile(d / "m.f32", "<f4")
    rel = float(np.linalg.norm(a - b) / np.linalg.norm(b))
    med = {k: statistics.median(v) for k, v in ms.items()}
    print(f"| tower | threads | sluice ms | llama.cpp ms | ratio | rel L2 |\n| --- | --- | --- | --- | --- | --- |\n"
          f"| gemma3-4b, {args.layers} layers, 896 px | {args.threads} | {med['sluice']:.0f} | "
          f"{med['llama.cpp']:.0f} | {med['sluice'] / med['llama.cpp']:.2f} | {rel:.2e} |")
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    out = REPO / "bench" / "results" / "vision.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    json.dump({"command": " ".join(sys.argv), "cpu": cpu, "load_average_at_start": load,
               "revision": rev.stdout.strip(), "ms": ms, "median_ms": med, "rel_l2": rel}, open(out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
