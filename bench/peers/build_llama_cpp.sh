#!/usr/bin/env bash
# Builds llama.cpp's llama-server, llama-bench, llama-batched-bench and llama-mtmd-cli from the
# vendor/llama.cpp tree of the llama-cpp-python sdist pinned in requirements.txt (the package
# scripts/setup_test installs), into build/llama.cpp/<version>/bin. Cached: a second run is a no-op.
# A benchmark tool only: never part of ./scripts/test.
#
#   bench/peers/build_llama_cpp.sh                  # CPU build (-march=native) here
#   bench/peers/build_llama_cpp.sh --trim OUT.tgz   # only the trimmed source (for the GPU machine)
#   bench/peers/build_llama_cpp.sh --src DIR --cuda # build a trimmed tree with CUDA (GPU machine)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
version=$(sed -n 's/^llama-cpp-python==//p' requirements.txt)
[ -n "$version" ] || { echo "requirements.txt pins no llama-cpp-python==VERSION" >&2; exit 1; }
root=$repo/build/llama.cpp/$version
trim="" src="" cuda=0
while [ $# -gt 0 ]; do
  case $1 in
    --trim) trim=$2; shift 2 ;;
    --src) src=$2; shift 2 ;;
    --cuda) cuda=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
targets="llama-server llama-bench llama-batched-bench llama-mtmd-cli"

# The sdist's vendor/llama.cpp, unpacked once (pip's cache makes the download a copy).
unpack() {
  [ -f "$root/src/CMakeLists.txt" ] && return
  mkdir -p "$root/dl"
  "$repo/.venv/bin/pip" download --quiet --no-deps --no-binary :all: \
    "llama-cpp-python==$version" -d "$root/dl"
  rm -rf "$root/src" && mkdir -p "$root/src"
  tar xzf "$root/dl/llama_cpp_python-$version.tar.gz" -C "$root/src" --strip-components=3 \
    "llama_cpp_python-$version/vendor/llama.cpp"
}

if [ -n "$trim" ]; then
  unpack
  # What the four tools need: no models, docs, tests, Python, CI, web UI sources or other GPUs.
  tar czf "$trim" -C "$root/src" \
    --exclude=./models --exclude=./docs --exclude=./tests --exclude=./gguf-py \
    --exclude=./conversion --exclude=./.github --exclude=./.devops --exclude=./media \
    --exclude=./examples --exclude=./benches --exclude=./pocs \
    --exclude='./tools/mtmd/test-*' --exclude='./tools/ui/src' --exclude='./tools/ui/tests' \
    --exclude='./ggml/src/ggml-vulkan' --exclude='./ggml/src/ggml-metal' \
    --exclude='./ggml/src/ggml-sycl' --exclude='./ggml/src/ggml-opencl' \
    --exclude='./ggml/src/ggml-cann' --exclude='./ggml/src/ggml-musa' \
    --exclude='./ggml/src/ggml-webgpu' --exclude='./ggml/src/ggml-hexagon' \
    --exclude='./ggml/src/ggml-zdnn' --exclude='./ggml/src/ggml-openvino' .
  echo "trimmed llama.cpp $version source: $trim ($(du -h "$trim" | cut -f1))"
  exit 0
fi

if [ -n "$src" ]; then
  srcdir=$src
  bindir=$root/build-$([ $cuda = 1 ] && echo cuda || echo cpu)
else
  unpack
  srcdir=$root/src
  bindir=$root/build-cpu
fi
if [ -x "$bindir/bin/llama-server" ] && [ -x "$bindir/bin/llama-bench" ]; then
  echo "llama.cpp $version already built: $bindir/bin"
  exit 0
fi
flags=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
       -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF
       -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON)
[ $cuda = 1 ] && flags+=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
# AMX is advertised on the 2-core Xeon VM but its tiles fault (SIGILL) there: native minus AMX.
if grep -qw amx_tile /proc/cpuinfo; then
  flags+=("-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
          "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
fi
cmake -S "$srcdir" -B "$bindir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$bindir" -j"$(nproc)" --target $targets
echo "llama.cpp $version: $bindir/bin"
