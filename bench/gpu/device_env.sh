# Sourced by the bench/gpu/device_*.sh scripts on the GPU machine: the repository root as the
# working directory, devcarry's libraries and the CUDA tools on the paths, b = the carried binaries.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export LD_LIBRARY_PATH=$PWD/devcarry/lib:${LD_LIBRARY_PATH:-}
export PATH=$PATH:/usr/local/cuda/bin
b=devcarry/bin
