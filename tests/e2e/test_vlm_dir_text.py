"""The language model of Hugging Face / mlx-vlm vision-language directories (issue 37).

`sluice make-model` writes the same random text weights (one seed) as llama.cpp's GGUF (f16) and
as a VLM directory: transformers' layout (safetensors-bf16: Gemma 3 "language_model.model.*" with
text_config, Qwen2.5-VL "model.*" with the text settings at the top level, Qwen3-VL(-MoE)
"model.language_model.*" with text_config and fused experts) or mlx-vlm's (mlx-8:
"language_model.model.*"). Text-only `sluice logits` from the directory equal the GGUF's within
rel L2 1e-2 (bf16 vs f16 rounding; mlx-8: 3e-2, its 8-bit codes), with the same argmax and the same
greedy tokens. transformers' AutoConfig reads the written config.json with the expected text
settings, and its own save of that config (transformers 5's form) gives the very same logits.
Gemma 3 as Google publishes it (a text_config naming only what differs from transformers'
defaults) is built here from the text checkpoint. A renamed tensor is an error naming it under
the family's prefix; an unknown VLM type is one error naming the supported ones.

Gemma 3's VLM directory is written with its vision tower (`--vision tiny`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from e2e_util import PROMPT_TEXT, THREADS, check_ok, read_f32, rel_l2

SEED = 7
ARCHS = ["gemma3", "qwen2vl", "qwen3vl", "qwen3vlmoe"]
FORMATS = ["safetensors-bf16", "mlx-8"]
TOL = {"safetensors-bf16": 1e-2, "mlx-8": 3e-2}
TOWER = {"gemma3": "tiny", "qwen2vl": "qwen25vl-tiny", "qwen3vl": "qwen3vl-tiny",
         "qwen3vlmoe": "qwen3vl-tiny"}
# (config class, text config class, the text model's tensor prefix) in transformers' layout
LAYOUT = {"gemma3": ("Gemma3Config", "Gemma3TextConfig", "language_model.model."),
          "qwen2vl": ("Qwen2_5_VLConfig", "Qwen2_5_VLTextConfig", "model."),
          "qwen3vl": ("Qwen3VLConfig", "Qwen3VLTextConfig", "model.language_model."),
          "qwen3vlmoe": ("Qwen3VLMoeConfig", "Qwen3VLMoeTextConfig", "model.language_model.")}


def text_file(d: Path) -> Path:
    """The text weights' file: model.safetensors, or shard 1 of 2 when the tower is beside it."""
    single = d / "model.safetensors"
    return single if single.exists() else d / "model-00001-of-00002.safetensors"


def tensor_names(path: Path) -> list[str]:
    raw = path.read_bytes()[:8]
    n = int.from_bytes(raw, "little")
    with open(path, "rb") as f:
        f.seek(8)
        return [k for k in json.loads(f.read(n)) if k != "__metadata__"]


def rename_tensors(src: Path, dst: Path, rename) -> None:
    """Copies a .safetensors file with its tensors renamed (the header only: offsets are kept)."""
    raw = src.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header = {k if k == "__metadata__" else rename(k): v for k, v in header.items()}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    dst.write_bytes(len(h).to_bytes(8, "little") + h + raw[8 + n:])


def copy_dir(src: Path, dst: Path, config: dict | None = None, rename=None) -> Path:
    """A directory like src: config.json replaced or copied, tensors renamed or linked."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name == "model.safetensors" and rename:
            rename_tensors(f, dst / f.name, rename)
        elif f.name == "config.json" and config is not None:
            (dst / f.name).write_text(json.dumps(config, indent=2))
        else:
            (dst / f.name).symlink_to(f)
    return dst


@pytest.fixture(scope="module")
def ids(prompt_ids) -> str:
    return " ".join(str(i) for i in prompt_ids("qwen3"))


@pytest.fixture(scope="module")
def made(sluice, tmp_path_factory):
    """made(arch, fmt) -> the GGUF file (fmt "gguf-f16") or the VLM directory, seed SEED."""
    root, cache = tmp_path_factory.mktemp("vlm_dirs"), {}

    def make(arch: str, fmt: str) -> Path:
        if (arch, fmt) not in cache:
            out = root / (f"{arch}.gguf" if fmt == "gguf-f16" else f"{arch}-{fmt}")
            args = ["make-model", "--arch", arch, "--preset", "tiny", "--format", fmt,
                    "--seed", SEED, "-o", out]
            if arch == "gemma3" and fmt != "gguf-f16":  # Gemma 3 is a VLM with its tower
                args += ["--vision", TOWER[arch]]
            check_ok(sluice(*args), " ".join(map(str, args)))
            cache[(arch, fmt)] = out
        return cache[(arch, fmt)]

    return make


def logits(sluice, model: Path, ids: str, out: Path):
    check_ok(sluice("logits", "-m", model, "--tokens", ids, "-o", out, "--threads", THREADS),
             f"sluice logits -m {model}")
    return read_f32(out)


def greedy(sluice, model: Path) -> str:
    return check_ok(sluice("run", "-m", model, "-p", PROMPT_TEXT, "-n", 8, "--temp", 0,
                           "--ignore-eos", "--threads", THREADS), f"sluice run -m {model}").stdout


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("arch", ARCHS)
def test_directory_text_logits_equal_the_gguf(arch, fmt, made, sluice, ids, record, tmp_path):
    gguf, d = made(arch, "gguf-f16"), made(arch, fmt)
    names = tensor_names(text_file(d))
    prefix = "language_model.model." if fmt.startswith("mlx") else LAYOUT[arch][2]
    text = [n for n in names if not n.startswith(("visual.", "model.visual.", "vision_tower",
                                                  "multi_modal_projector", "model.vision"))]
    assert text and all(n.startswith((prefix, "lm_head.", "language_model.lm_head.")) for n in text), \
        [n for n in text if not n.startswith(prefix)][:5]
    if arch == "qwen3vlmoe" and fmt == "safetensors-bf16":  # fused, as Qwen publishes it
        assert prefix + "layers.0.mlp.experts.gate_up_proj" in names
    ours, peer = logits(sluice, d, ids, tmp_path / "d.f32"), logits(sluice, gguf, ids, tmp_path / "g.f32")
    e = rel_l2(ours, peer)
    record(f"{arch} {fmt} VLM dir vs gguf-f16: rel-L2 {e:.2e}")
    assert e <= TOL[fmt] and ours.argmax() == peer.argmax(), (e, ours.argmax(), peer.argmax())
    assert greedy(sluice, d) == greedy(sluice, gguf)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("arch", ARCHS)
def test_transformers_reads_the_config(arch, fmt, made, default_tokenizer):
    from tokenizers import Tokenizer
    from transformers import AutoConfig

    d = made(arch, fmt)
    written = json.loads((d / "config.json").read_text())
    c = AutoConfig.from_pretrained(str(d))
    t = c.text_config
    assert (type(c).__name__, type(t).__name__) == LAYOUT[arch][:2]
    layers = {"gemma3": 6, "qwen2vl": 2, "qwen3vl": 4, "qwen3vlmoe": 4}[arch]
    assert (t.hidden_size, t.num_hidden_layers, t.num_attention_heads) == (256, layers, 4)
    tok = Tokenizer.from_file(str(default_tokenizer("qwen3")))
    assert t.vocab_size == tok.get_vocab_size()
    assert t.num_key_value_heads == (1 if arch == "gemma3" else 2)
    rope = t.rope_parameters
    if arch == "gemma3":
        assert c.tie_word_embeddings and t.sliding_window == 32 and t.query_pre_attn_scalar == 64
        assert rope["sliding_attention"]["rope_theta"] == 10000.0
        assert t.layer_types == ["sliding_attention"] * 5 + ["full_attention"]
    else:
        # tiny: head_dim 64 -> 32 pairs; Qwen2.5-VL's [16, 24, 24] / Qwen3-VL's [24, 20, 20] scaled
        assert rope["mrope_section"] == ([8, 12, 12] if arch == "qwen2vl" else [12, 10, 10])
        assert c.image_token_id == tok.token_to_id("<|image_pad|>")
        assert c.vision_start_token_id == tok.token_to_id("<|vision_start|>")
    if arch == "qwen2vl":
        assert "text_config" not in written and written["hidden_size"] == 256  # as published
    else:
        assert written["text_config"]["hidden_size"] == 256
    if arch.startswith("qwen3vl"):
        assert rope["mrope_interleaved"] is True and rope["rope_theta"] == 5e6
    if arch == "qwen3vlmoe":
        assert (t.num_experts, t.num_experts_per_tok, t.moe_intermediate_size) == (8, 2, 512)
    if fmt.startswith("mlx"):
        assert written["quantization"] == {"group_size": 64, "bits": 8, "mode": "affine"}


@pytest.mark.parametrize("arch", ARCHS)
def test_transformers5s_own_save_reads_the_same(arch, made, sluice, ids, tmp_path):
    from transformers import AutoConfig

    d = made(arch, "safetensors-bf16")
    saved = tmp_path / "saved"
    AutoConfig.from_pretrained(str(d)).save_pretrained(str(saved))
    config = json.loads((saved / "config.json").read_text())
    assert "rope_parameters" in config["text_config"]  # not the form make-model writes
    again = copy_dir(d, tmp_path / "again", config=config)
    a, b = logits(sluice, d, ids, tmp_path / "a.f32"), logits(sluice, again, ids, tmp_path / "b.f32")
    assert (a == b).all()


def test_gemma3_as_google_publishes_it(make_model, made, sluice, ids, record, tmp_path):
    """Gemma3ForConditionalGeneration's layout built from make-model's Gemma3ForCausalLM directory
    (same seed): "language_model.model.*" tensors, text_config keeping only the keys that differ
    from Gemma3TextConfig's defaults (rope thetas, tied head, activation), as google/gemma-3-*-it."""
    from transformers import Gemma3TextConfig as Defaults

    text_dir = make_model("gemma3", "safetensors-bf16", seed=SEED)
    text = json.loads((text_dir / "config.json").read_text())
    assert text["architectures"] == ["Gemma3ForCausalLM"]
    for k in ("architectures", "torch_dtype"):
        text.pop(k)
    text["model_type"] = "gemma3_text"
    defaults = {k: getattr(Defaults, k) for k in text if k != "model_type" and
                isinstance(getattr(Defaults, k, None), (bool, int, float, str))}
    defaults.update(rope_theta=Defaults.default_theta["global"],
                    rope_local_base_freq=Defaults.default_theta["local"], rope_scaling=None)
    sparse = {k: v for k, v in text.items() if k not in defaults or defaults[k] != v}
    left_out = sorted(set(text) - set(sparse))
    assert {"rope_theta", "rope_local_base_freq", "tie_word_embeddings"} <= set(left_out), left_out
    config = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
              "boi_token_index": 255999, "eoi_token_index": 256000, "image_token_index": 262144,
              "mm_tokens_per_image": 256, "text_config": sparse, "torch_dtype": "bfloat16"}
    d = copy_dir(text_dir, tmp_path / "gemma3-published", config=config,
                 rename=lambda n: "language_model." + n if n.startswith("model.") else n)
    ours = logits(sluice, d, ids, tmp_path / "d.f32")
    same = logits(sluice, text_dir, ids, tmp_path / "t.f32")
    peer = logits(sluice, made("gemma3", "gguf-f16"), ids, tmp_path / "g.f32")
    e = rel_l2(ours, peer)
    record(f"gemma3 published layout (text_config without {', '.join(left_out)}) vs gguf-f16: "
           f"rel-L2 {e:.2e}")
    assert (ours == same).all()
    assert e <= TOL["safetensors-bf16"] and ours.argmax() == peer.argmax(), e


@pytest.mark.parametrize("arch,fmt", [("qwen2vl", "safetensors-bf16"),
                                      ("qwen3vl", "safetensors-bf16"),
                                      ("qwen3vlmoe", "mlx-8")])
def test_a_renamed_tensor_is_an_error_naming_it(arch, fmt, made, sluice, ids, tmp_path):
    d = made(arch, fmt)
    prefix = "language_model.model." if fmt.startswith("mlx") else LAYOUT[arch][2]
    victim = prefix + "layers.1.self_attn.k_proj.weight"
    assert victim in tensor_names(text_file(d))
    bad = copy_dir(d, tmp_path / "renamed", rename=lambda n: n.replace("1.self_attn.k_proj.",
                                                                      "1.self_attn.k_prj."))
    r = sluice("logits", "-m", bad, "--tokens", ids, "-o", tmp_path / "x.f32")
    assert r.returncode != 0 and f"missing tensor '{victim}'" in r.stderr, r.stderr
    # The whole text model under a prefix no checkpoint uses: the error lists the known ones.
    bad = copy_dir(d, tmp_path / "moved", rename=lambda n: n.replace(prefix, "text_model.", 1))
    r = sluice("logits", "-m", bad, "--tokens", ids, "-o", tmp_path / "x.f32")
    assert r.returncode != 0 and "under none of model., model.language_model., " \
        "language_model.model." in r.stderr, r.stderr


def test_an_unknown_vision_language_model_is_one_clear_error(made, sluice, ids, tmp_path):
    d = made("qwen3vl", "safetensors-bf16")
    config = json.loads((d / "config.json").read_text())
    config.update(architectures=["LlavaForConditionalGeneration"], model_type="llava")
    bad = copy_dir(d, tmp_path / "llava", config=config)
    r = sluice("logits", "-m", bad, "--tokens", ids, "-o", tmp_path / "x.f32")
    assert r.returncode != 0, r.stdout
    assert "unsupported vision-language model 'LlavaForConditionalGeneration'" in r.stderr, r.stderr
    assert "gemma3, qwen2_vl, qwen2_5_vl, qwen3_vl, qwen3_vl_moe" in r.stderr, r.stderr


@pytest.mark.parametrize("arch,fmt", [("qwen2vl", "safetensors-bf16"), ("qwen3vl", "mlx-8")])
def test_a_tower_leaves_the_text_model_as_it_was(arch, fmt, made, sluice, ids, tmp_path):
    """With --vision the directory also holds the tower; the text side reads as without it."""
    out = tmp_path / "with-tower"
    r = sluice("make-model", "--arch", arch, "--preset", "tiny", "--format", fmt, "--seed", SEED,
               "--vision", TOWER[arch], "-o", out)
    check_ok(r, "make-model --vision")
    config = json.loads((out / "config.json").read_text())
    assert "vision_config" in config and (out / "preprocessor_config.json").is_file()
    a = logits(sluice, out, ids, tmp_path / "a.f32")
    b = logits(sluice, made(arch, fmt), ids, tmp_path / "b.f32")
    assert (a == b).all()
    shutil.rmtree(out)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("arch", ARCHS)
def test_mlx_vlm_reads_the_directory(arch, fmt, made, sluice, reference, ids, record, tmp_path):
    """mlx-vlm (where installed) loads the directory (the transformers layout through its own
    sanitize: Qwen's "model.*", Qwen3-VL-MoE's fused experts): its float32 text logits equal
    sluice's within 1e-3 (measured ~1e-4 with mlx-vlm 0.7.10: the same weights, both in f32)."""
    pytest.importorskip("mlx_vlm")
    d = made(arch, fmt)
    ours = logits(sluice, d, ids, tmp_path / "s.f32")
    reference("mlx_vlm_text_logits.py", d, "--tokens", ids, "-o", tmp_path / "m.f32")
    peer = read_f32(tmp_path / "m.f32")
    e = rel_l2(ours, peer)
    record(f"{arch} {fmt} VLM dir: sluice vs mlx-vlm (float32) rel-L2 {e:.2e}")
    assert e <= 1e-3 and ours.argmax() == peer.argmax(), e
