"""Writes all-MiniLM-L6-v2 with F16 weights (half the bytes) for the device run: the F32
directory (91 MB) is over the device tool's 64 MiB carry. Both engines then read the same F16 file.
Usage: .venv/bin/python bench/gpu/minilm_f16.py models/all-minilm-l6-v2 OUT_DIR"""
import pathlib
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for f in src.rglob("*"):
    rel = f.relative_to(src)
    if f.is_file() and f.name != "model.safetensors" and not rel.parts[0].startswith("."):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, out / rel)
tensors = {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in load_file(src / "model.safetensors").items()}
save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
