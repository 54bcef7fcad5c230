#!/usr/bin/env bash
# Builds and runs bench/kernels/issue_rate.cc (the CPU's multiply-pipe issue rates).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${TMPDIR:-/tmp}/sluice_issue_rate"
c++ -std=c++20 -O2 "$root/bench/kernels/issue_rate.cc" -o "$out"
"$out"
