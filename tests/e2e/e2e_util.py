"""Helpers shared by the e2e tests and their conftest."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO / "tests" / "reference"
THREADS = int(os.environ.get("SLUICE_THREADS", "2"))
# SLUICE_E2E_FULL=1: the load tests at full size (minutes each); CI runs them scaled down.
FULL = os.environ.get("SLUICE_E2E_FULL") == "1"

# A ~30-token English sentence: logits are compared at its last position.
PROMPT_TEXT = (
    "The old lighthouse keeper climbed the narrow stairs every evening, lit the great lamp, "
    "and watched the ships pass safely through the rocky strait."
)


def rel_l2(a: np.ndarray, ref: np.ndarray) -> float:
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(a - ref) / np.linalg.norm(ref))


def read_f32(path) -> np.ndarray:
    return np.fromfile(path, dtype="<f4")


def check_ok(r: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"{what}: exit {r.returncode}\nstderr:\n{r.stderr[-4000:]}"
    return r
