"""Sums an `ncu --csv --metrics gpu__time_duration.sum` log by kernel name, largest first.

    python3 bench/gpu/ncu_summary.py NCU.csv [TOP]
"""
import collections
import csv
import sys

UNITS = {"ns": 1e-3, "nsecond": 1e-3, "ms": 1e3, "msecond": 1e3}  # -> us

rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head, rows = rows[0], rows[1:]
ki, vi, ui = head.index("Kernel Name"), head.index("Metric Value"), head.index("Metric Unit")
total = collections.defaultdict(float)
count = collections.Counter()
for r in rows:
    us = float(r[vi].replace(",", "")) * UNITS.get(r[ui], 1.0)
    name = r[ki].split("(")[0][:90]
    total[name] += us
    count[name] += 1
top = int(sys.argv[2]) if len(sys.argv) > 2 else len(total)
print(f"ncu {sys.argv[1]}: {len(rows)} kernels, {sum(total.values()):.1f} us in all")
for name, us in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{us:10.1f} us {count[name]:6d} x {us / count[name]:7.2f} us  {name}")
