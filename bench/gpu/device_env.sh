# Sourced by the bench/gpu/device_*.sh scripts on the GPU machine: the repository root as the
# working directory, devcarry's libraries and the CUDA tools on the paths, b = the carried binaries.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -d devcarry/bin ] || tar xzf devcarry/pack.tgz  # scripts/device_bundle.sh's pack
export LD_LIBRARY_PATH=$PWD/devcarry/lib:${LD_LIBRARY_PATH:-}
export PATH=$PATH:/usr/local/cuda/bin
b=devcarry/bin

# texts A B: per prompt of two `sluice run --prompts` JSON-line files, "same" or the first
# differing character of the generated text.
texts() {
  python3 -c "
import json, sys
a, b = ([json.loads(l)['text'] for l in open(f)] for f in sys.argv[1:3])
print(['same' if x == y else next(i for i, (p, q) in enumerate(zip(x + '\0', y + '\0')) if p != q)
       for x, y in zip(a, b)] if a and len(a) == len(b) else 'MISSING OUTPUT')" "$1" "$2"
}

# bench_model NAME: makes bench_gpu.py's model NAME (random weights) under /tmp/sluice-models
# unless it is there, and sets `model` to its path.
bench_model() {
  local spec ext
  case $1 in
    llama3-8b-q4_0) spec="llama llama3-8b gguf-q4_0" ext=.gguf ;;
    llama3-8b-bf16) spec="llama llama3-8b safetensors-bf16" ext= ;;
    qwen3-0.6b-bf16) spec="qwen3 qwen3-0.6b safetensors-bf16" ext= ;;
    qwen3-30b-a3b-l12) spec="qwen3moe qwen3-30b-a3b gguf-q4_k --layers 12" ext=.gguf ;;
    *) echo "unknown model $1"; return 2 ;;
  esac
  model=/tmp/sluice-models/$1$ext
  set -- $spec
  mkdir -p /tmp/sluice-models
  [ -e "$model" ] || $b/sluice make-model --arch "$1" --preset "$2" --format "$3" "${@:4}" \
    --tokenizer devcarry/tok/tokenizer.json -o "$model" >/dev/null
}

# moe_cut_models: the cut MoE files the A/B and peer scripts share, one "ARCH PRESET FORMAT
# LAYERS" line each (Qwen3-30B-A3B Q4_K_M, QWEN_LAYERS (12); gpt-oss-20b MXFP4, GPTOSS_LAYERS
# (8)); m34_model ARCH PRESET FORMAT LAYERS makes one under /tmp/m34 unless it is there, and
# sets `m` to its path.
moe_cut_models() {
  printf '%s\n' "qwen3moe qwen3-30b-a3b gguf-q4_k ${QWEN_LAYERS:-12}" \
    "gpt-oss gpt-oss-20b gguf-mxfp4 ${GPTOSS_LAYERS:-8}"
}
m34_model() {
  m=/tmp/m34/$2-l$4.gguf
  mkdir -p /tmp/m34
  [ -e "$m" ] || $b/sluice make-model --arch "$1" --preset "$2" --format "$3" --layers "$4" \
    --tokenizer devcarry/tok/tokenizer.json -o "$m" >/dev/null 2>&1
}

# build_llama_cuda LOG TARGET...: llama.cpp's CUDA build (sm_90) from devcarry/llama_src.tgz
# (bench/peers/build_llama_cpp.sh --trim) into /tmp/lc/build; the tools land in /tmp/lc/build/bin.
build_llama_cuda() {
  local log=$1
  shift
  mkdir -p /tmp/lc/src && tar xzf devcarry/llama_src.tgz -C /tmp/lc/src
  cmake -S /tmp/lc/src -B /tmp/lc/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON -DGGML_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 >"$log" 2>&1 &&
    cmake --build /tmp/lc/build -j"$(nproc)" --target "$@" >>"$log" 2>&1
}

# write_prompts64: the concurrent benches' 64 prompts (~128 tokens each, seeded) into
# /tmp/prompts64.txt.
write_prompts64() {
  python3 -c "
import random
r = random.Random(0)
words = 'the of and to in is was for on that with as by at from his an were are which this be'.split()
for i in range(64): print(str(i) + ' ' + ' '.join(r.choice(words) for _ in range(120)))" >/tmp/prompts64.txt
}

# vlm4b: the Gemma 3 4B shape (Q4_K text + F16 tower, random weights) the picture benches serve,
# made under w=/tmp/vlm unless there; sets w, v (the vocabulary) and tpl (the chat template).
vlm4b() {
  w=/tmp/vlm v=devcarry/tok/gemma3-vocab.gguf tpl=tests/data/templates/gemma3_vision_test.jinja
  mkdir -p $w
  [ -e $w/4b.gguf ] || $b/sluice make-model --arch gemma3 --preset gemma3-4b --tokenizer $v \
    --format gguf-q4_k --vision gemma3-4b --mmproj $w/4b-mmproj.gguf -o $w/4b.gguf 2>&1 | tail -1
}
