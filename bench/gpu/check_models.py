#!/usr/bin/env python3
"""Whole-model checks of the CUDA backend on the GPU machine (no network there).

    python3 bench/gpu/check_models.py --sluice devcarry/bin/sluice --tokenizer T --out DIR

For synthetic Llama/Qwen3 models (F16/BF16, 4-bit, 8-bit; GGUF and safetensors) made with
`sluice make-model`: last-position logits of `sluice logits --device cuda` vs `--device cpu`
(rel. L2), vs PyTorch/transformers in float32 on the GPU for the safetensors BF16 models, greedy
text cuda == cpu, `--deterministic` serial == 64 concurrent on the GPU (greedy, and seeded
sampling on the GPU), and that sampling equal to the host sampler's. Prints a table and
writes DIR/check_models.json; exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

MODELS = [  # (name, arch, preset, format)
    ("llama-tiny-f16", "llama", "tiny", "gguf-f16"),
    ("llama-tiny-q4_0", "llama", "tiny", "gguf-q4_0"),
    ("llama-tiny-q8_0", "llama", "tiny", "gguf-q8_0"),
    ("qwen2-tiny-q4_k", "qwen2", "tiny", "gguf-q4_k"),
    ("qwen3-tiny-bf16", "qwen3", "tiny", "safetensors-bf16"),
    ("llama-tiny-bf16", "llama", "tiny", "safetensors-bf16"),
    ("qwen3-tiny-mlx4", "qwen3", "tiny", "mlx-4"),
    ("qwen3-tiny-mlx8", "qwen3", "tiny", "mlx-8"),
    ("qwen3-0.6b-bf16", "qwen3", "qwen3-0.6b", "safetensors-bf16"),
]
TOKENS = [int(t) for t in np.random.default_rng(0).integers(10, 5000, size=48)]


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def logits(a, model: str, device: str, tmp: str) -> np.ndarray:
    out = os.path.join(tmp, f"logits-{device}.bin")
    sh([a.sluice, "logits", "-m", model, "--device", device, "--tokens",
        " ".join(map(str, TOKENS)), "-o", out])
    return np.fromfile(out, dtype=np.float32)


def rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def torch_logits(model_dir: str) -> np.ndarray:
    import torch
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).cuda().eval()
    with torch.no_grad():
        out = m(torch.tensor([TOKENS], device="cuda")).logits[0, -1]
    return out.float().cpu().numpy()


def greedy(a, model: str, device: str, extra: list[str] | None = None) -> str:
    r = sh([a.sluice, "run", "-m", model, "--device", device, "-p", "The quick brown fox",
            "-n", "32", "--temp", "0", "--ignore-eos"] + (extra or []))
    return r.stdout


def deterministic(a, model: str, tmp: str) -> dict[str, bool]:
    """--deterministic serial == 64 concurrent, greedy and sampled (seeded, on the GPU); and the
    GPU's sampling draws what the host sampler draws from the same logits."""
    prompts = os.path.join(tmp, "prompts.txt")
    with open(prompts, "w") as f:
        for i in range(64):
            f.write(f"Prompt number {i}: " + "lorem ipsum " * (i % 9) + "\n")
    base = [a.sluice, "run", "-m", model, "--device", "cuda", "--prompts", prompts, "-n", "24",
            "--ignore-eos", "--deterministic"]
    sampled = ["--temp", "0.8", "--top-p", "0.9", "--top-k", "50", "--seed", "7"]
    def texts(conc: str, extra: list[str], env: dict | None = None) -> dict[int, str]:
        lines = sh(base + extra + ["--concurrency", conc],
                   env={**os.environ, **(env or {})}).stdout.splitlines()
        return {j["index"]: j["text"] for j in map(json.loads, lines)}
    on_gpu = texts("1", sampled)
    return {"deterministic_serial_eq_64": texts("1", ["--temp", "0"]) == texts("64", ["--temp", "0"]),
            "sampled_serial_eq_64": on_gpu == texts("64", sampled),
            "sampled_gpu_eq_host_sampler":
                on_gpu == texts("1", sampled, {"SLUICE_CUDA_SAMPLING": "0"})}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for name, arch, preset, fmt in MODELS:
            path = os.path.join(tmp, name + (".gguf" if fmt.startswith("gguf") else ""))
            sh([a.sluice, "make-model", "--arch", arch, "--preset", preset, "--format", fmt,
                "--tokenizer", a.tokenizer, "-o", path])
            row = {"model": name}
            try:
                cpu, gpu = logits(a, path, "cpu", tmp), logits(a, path, "cuda", tmp)
                row["rel_l2_cuda_vs_cpu"] = rel_l2(gpu, cpu)
                row["argmax_equal"] = bool(np.argmax(gpu) == np.argmax(cpu))
                if fmt == "safetensors-bf16" and not a.no_torch:
                    row["rel_l2_cuda_vs_torch"] = rel_l2(gpu, torch_logits(path))
                row["greedy_equal"] = greedy(a, path, "cuda") == greedy(a, path, "cpu")
                if preset == "tiny" and fmt in ("gguf-q4_0", "safetensors-bf16"):
                    row.update(deterministic(a, path, tmp))
            except subprocess.CalledProcessError as e:
                row["error"] = (e.stderr or "")[-2000:]
            bad = ("error" in row or row.get("rel_l2_cuda_vs_cpu", 1) > 1e-2 or
                   row.get("rel_l2_cuda_vs_torch", 0) > 1e-2 or
                   False in (row.get(k) for k in ("deterministic_serial_eq_64",
                                                  "sampled_serial_eq_64",
                                                  "sampled_gpu_eq_host_sampler")))
            row["pass"] = not bad
            ok &= not bad
            rows.append(row)
            print(json.dumps(row), flush=True)
    with open(os.path.join(a.out, "check_models.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
