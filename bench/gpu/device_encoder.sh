#!/usr/bin/env bash
# The encoder path on the H100: CUDA op-table cases of the encoder ops (and compute-sanitizer),
# then `sluice embed` of all-MiniLM-L6-v2 (F16 copy: bench/gpu/minilm_f16.py) on CUDA and CPU
# against sentence-transformers on the same directory, batch 1 == batch 64, and CUDA throughput.
# Carry: devcarry (scripts/device_bundle.sh, plus devcarry/minilm_f16). Results under $OUT.
source "$(dirname "$0")/device_env.sh"
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ops='*cuda_layer_norm*:*cuda_gelu_erf*:*cuda_bidirectional*:*cuda_pool_rows*:*cuda_l2_norm*'
$b/backend_tests --gtest_filter="$ops" --gtest_brief=1 2>&1 | tail -3 | tee "$OUT/ops.txt"
compute-sanitizer --tool memcheck --error-exitcode 9 $b/backend_tests --gtest_filter="$ops" \
  --gtest_brief=1 > "$OUT/memcheck.txt" 2>&1; echo "memcheck rc=$?" | tee -a "$OUT/ops.txt"
[ -d devcarry/minilm_f16 ] || tar xJf devcarry/minilm_f16.txz -C devcarry
M=devcarry/minilm_f16
python3 - "$M" "$OUT" <<'PY'
import json, random, subprocess, sys, time
import numpy as np
from sentence_transformers import SentenceTransformer
m, out = sys.argv[1], sys.argv[2]
rng = random.Random(0)
words = "the model reads a long sentence about rivers cities and small engines ünïcode 東京 code".split()
texts = ["Hello world", "a"] + [" ".join(rng.choice(words) for _ in range(rng.randint(3, 120))) for _ in range(62)]
def sluice(device, batch, lines, *extra):
    r = subprocess.run(["devcarry/bin/sluice", "embed", m, "--device", device, "--batch", str(batch), *extra],
                       input="".join(json.dumps(t) + "\n" for t in lines), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return np.array([json.loads(l) for l in r.stdout.splitlines()], dtype=np.float64)
st = SentenceTransformer(m, device="cuda").encode(texts, batch_size=64, normalize_embeddings=False)
st = np.asarray(st, dtype=np.float64)
cos = lambda a, b: (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
res = {}
for dev in ("cuda", "cpu"):
    e64, e1 = sluice(dev, 64, texts), sluice(dev, 1, texts)
    res[dev] = {"min_cos_vs_st": float(cos(e64, st).min()), "batch1_eq_batch64": bool((e1 == e64).all()),
                "max_abs_b1_b64": float(np.abs(e1 - e64).max())}
    d64, d1 = sluice(dev, 64, texts, "--deterministic"), sluice(dev, 1, texts, "--deterministic")
    res[dev]["deterministic_b1_eq_b64"] = bool((d1 == d64).all())
    res[dev]["deterministic_min_cos_vs_st"] = float(cos(d64, st).min())
big = texts * 16
t = time.time(); sluice("cuda", 64, big); res["cuda_emb_per_s_incl_load"] = len(big) / (time.time() - t)
print(json.dumps(res, indent=1))
json.dump(res, open(out + "/embed.json", "w"), indent=1)
PY
