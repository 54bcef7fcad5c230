"""Qwen3-VL served end to end: the `qwen3vl` text model (interleaved M-RoPE, deepstack slices)
with the Qwen3-VL tower (main merger and DeepStack mergers), on files from `sluice make-model
--arch qwen3vl --vision qwen3vl-tiny`, against llama.cpp's libmtmd
(tests/reference/mtmd_image_logits.py: mtmd_tokenize, mtmd_helper_eval_chunks, llama_get_logits).

A prompt with two images of different aspect ratios (4x6 and 7x3 token grids; sides multiples
of 32, so neither preprocessor resizes them) and text after each: the token layout sluice's
/tokenize gives equals mtmd's chunks; the last position's logits (`sluice logits --mmproj`, also
in 16-token chunks that cut the images) within rel L2 1e-2 of libmtmd's (f16 weights; ggml rounds
activations to f16 and uses a tanh GELU in the mergers); 16 greedy tokens from the server equal
libmtmd's. qwen3vlmoe: the logits once. The OpenAI client streams an answer about an image, the
Anthropic client gets one, the same image again is a prefix-cache hit with the same output, and a
Qwen2.5-VL tower paired with this text model (or the reverse) is one clear error.
"""
from __future__ import annotations

import base64
import io
import json

import anthropic
import numpy as np
import openai
import pytest
from PIL import Image

from e2e_util import REPO, THREADS, check_ok, read_f32, rel_l2
from server_util import SluiceServer
from test_malformed_models import check_clean_error

TEMPLATE = REPO / "tests" / "data" / "templates" / "qwen3vl_test.jinja"
IMAGE_PART = "<|vision_start|><|image_pad|><|vision_end|>"
SIZES = {"wide.png": (128, 192), "tall.png": (224, 96)}  # (height, width): 4x6 and 7x3 tokens


def picture(seed: int, height: int, width: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(x / rng.uniform(5, 20) + c) * np.cos(y / rng.uniform(5, 20))
                    for c in range(3)], -1) + rng.normal(0, 8, (height, width, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen3vl_pictures")
    for i, (name, (h, w)) in enumerate(SIZES.items()):
        picture(i + 1, h, w).save(d / name)
    return d


@pytest.fixture(scope="module")
def vlm(sluice, tmp_path_factory):
    """vlm(arch) -> (text GGUF, mmproj GGUF): f16 random weights, Qwen3's vocabulary."""
    cache: dict = {}

    def make(arch: str):
        if arch not in cache:
            d = tmp_path_factory.mktemp(arch)
            text, mmproj = d / f"{arch}.gguf", d / "mmproj.gguf"
            check_ok(sluice("make-model", "--arch", arch, "--preset", "tiny", "--format",
                            "gguf-f16", "--seed", 5, "-o", text, "--vision", "qwen3vl-tiny",
                            "--mmproj", mmproj, "--mmproj-type", "f16"),
                     f"make-model --arch {arch} --vision qwen3vl-tiny")
            cache[arch] = (text, mmproj)
        return cache[arch]

    return make


@pytest.fixture(scope="module")
def files(vlm, pictures):
    """(dir of the PNGs, text GGUF, mmproj GGUF) of the dense qwen3vl."""
    return (pictures, *vlm("qwen3vl"))


def render(messages: list) -> str:
    import jinja2

    return jinja2.Environment().from_string(TEMPLATE.read_text()).render(
        messages=messages, add_generation_prompt=True)


def data_url(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def messages_with(d) -> list:
    return [{"role": "user", "content": [
        {"type": "text", "text": "Look at this picture: "},
        {"type": "image_url", "image_url": {"url": data_url(d / "wide.png")}},
        {"type": "text", "text": " and this one, "},
        {"type": "image_url", "image_url": {"url": data_url(d / "tall.png")}},
        {"type": "text", "text": " then tell me what differs."}]}]


@pytest.fixture(scope="module")
def run_mtmd(pictures, reference, tmp_path_factory):
    """run_mtmd(text, mmproj) -> libmtmd's (layout and greedy tokens, logits), two images."""

    def run(text, mmproj):
        parts = [{"type": p["type"] if p["type"] == "text" else "image",
                  "text": p.get("text", "")} for p in messages_with(pictures)[0]["content"]]
        prompt = render([{"role": "user", "content": parts}]).replace(IMAGE_PART, "<__media__>")
        out = tmp_path_factory.mktemp("mtmd")
        reference("mtmd_image_logits.py", "--model", text, "--mmproj", mmproj, "--prompt", prompt,
                  "--image", pictures / "wide.png", "--image", pictures / "tall.png", "-o",
                  out / "logits.f32", "--json", out / "out.json", "-n", 16, "--threads", THREADS)
        return json.loads((out / "out.json").read_text()), read_f32(out / "logits.f32")

    return run


@pytest.fixture(scope="module")
def mtmd(files, run_mtmd):
    return run_mtmd(*files[1:])


@pytest.fixture(scope="module")
def server(sluice_bin, files):
    _, text, mmproj = files
    with SluiceServer(sluice_bin, "-m", text, "--mmproj", mmproj, "--chat-template", TEMPLATE,
                      "--threads", "1", "--deterministic") as s:
        yield s


def sluice_words(ref: dict) -> str:
    """mtmd's layout as `sluice logits --tokens`: each image's placeholders as one `<image>`."""
    words, i, starts = [], 0, {im["offset"]: im["n_tokens"] for im in ref["images"]}
    while i < len(ref["tokens"]):
        if i in starts:
            words.append("<image>")
            i += starts[i]
        else:
            words.append(str(ref["tokens"][i]))
            i += 1
    return " ".join(words)


def last_logits(sluice, text, mmproj, pictures, ref, out, step=0):
    args = ["logits", "-m", text, "--mmproj", mmproj, "--image", pictures / "wide.png",
            "--image", pictures / "tall.png", "--tokens", sluice_words(ref), "-o", out,
            "--threads", THREADS]
    if step:  # prefill chunks that start and end inside the images
        args += ["--max-num-batched-tokens", step]
    check_ok(sluice(*args), "sluice logits --mmproj")
    return read_f32(out)


def test_prompt_layout_equals_mtmd(server, files, mtmd):
    ref, _ = mtmd
    status, body = server.post("/tokenize", {"messages": messages_with(files[0]),
                                             "add_generation_prompt": True})
    assert status == 200, body
    assert [(im["nx"], im["ny"]) for im in ref["images"]] == [(6, 4), (3, 7)]
    assert [im["n_tokens"] for im in ref["images"]] == [24, 21]
    assert body["tokens"] == ref["tokens"]
    # The positions after the prompt: tokens, less each image's tokens, plus its longer side.
    assert ref["n_pos"] == len(ref["tokens"]) - 24 + 6 - 21 + 7


@pytest.mark.parametrize("step", [0, 16])
def test_logits_after_images_match_mtmd(step, files, mtmd, sluice, record, tmp_path):
    d, text, mmproj = files
    ref, want = mtmd
    ours = last_logits(sluice, text, mmproj, d, ref, tmp_path / "ours.f32", step)
    err = rel_l2(ours, want)
    record(f"qwen3vl tiny f16, 2 images: logits rel L2 sluice-vs-libmtmd {err:.2e} (step {step})")
    assert err < 1e-2, err
    assert int(np.argmax(ours)) == ref["greedy"][0]


def test_moe_logits_after_images_match_mtmd(vlm, pictures, run_mtmd, sluice, record, tmp_path):
    text, mmproj = vlm("qwen3vlmoe")
    ref, want = run_mtmd(text, mmproj)
    ours = last_logits(sluice, text, mmproj, pictures, ref, tmp_path / "ours.f32")
    err = rel_l2(ours, want)
    record(f"qwen3vlmoe tiny f16, 2 images: logits rel L2 sluice-vs-libmtmd {err:.2e}")
    assert err < 1e-2, err
    assert int(np.argmax(ours)) == ref["greedy"][0]


def test_greedy_text_equals_mtmd(server, files, mtmd, default_tokenizer):
    ref, _ = mtmd
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)
    r = client.chat.completions.create(model="m", messages=messages_with(files[0]), temperature=0,
                                       max_tokens=16, logprobs=True,
                                       extra_body={"ignore_eos": True,
                                                   "skip_special_tokens": False})
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(default_tokenizer("qwen3vl")))
    want = tok.decode(ref["greedy"], skip_special_tokens=False)
    assert r.choices[0].message.content == want
    assert r.usage.completion_tokens == 16


def test_streamed_openai_request_with_an_image(server, files):
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": data_url(files[0] / "tall.png")}}]}]
    text, finish = "", None
    for chunk in client.chat.completions.create(model="m", messages=messages, temperature=0,
                                                max_tokens=6, stream=True,
                                                extra_body={"ignore_eos": True}):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    assert finish == "length" and text


def test_anthropic_client_sends_an_image(server, files):
    claude = anthropic.Anthropic(base_url=server.base_url, api_key="x", max_retries=0)
    png = base64.b64encode((files[0] / "wide.png").read_bytes()).decode()
    r = claude.messages.create(model="m", max_tokens=5, messages=[
        {"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
            {"type": "text", "text": "Describe it."}]}])
    assert r.stop_reason in ("max_tokens", "end_turn") and r.usage.output_tokens > 0


def test_the_same_image_again_is_a_prefix_hit(server, files):
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)
    img = Image.open(files[0] / "wide.png")
    buf = io.BytesIO()
    img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(buf, "PNG")  # a picture not sent before
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    messages = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}},
        {"type": "text", "text": "Once more: what do you see in it, in detail?"}]}]

    def ask():
        return client.chat.completions.create(model="m", messages=messages, temperature=0,
                                              max_tokens=8, extra_body={"ignore_eos": True})

    cold, warm = ask(), ask()
    image_at = 4  # "<|im_start|>user\n<|vision_start|>" (no default system turn): 4 tokens
    assert cold.usage.prompt_tokens_details.cached_tokens <= image_at  # only blocks before it
    prompt = warm.usage.prompt_tokens
    assert warm.usage.prompt_tokens_details.cached_tokens == (prompt - 1) // 16 * 16 > 24
    assert warm.choices[0].message.content == cold.choices[0].message.content


def test_a_qwen25vl_tower_with_qwen3vl_text_is_one_clear_error(files, sluice, tmp_path):
    """Each side's width check (hidden * (1 + deepstack slices)) names the mismatch."""
    d, text, mmproj = files
    other_text, other_mmproj = tmp_path / "qwen2vl.gguf", tmp_path / "mmproj-qwen25vl.gguf"
    check_ok(sluice("make-model", "--arch", "qwen2vl", "--preset", "tiny", "--format", "gguf-f16",
                    "-o", other_text, "--vision", "qwen25vl-tiny", "--mmproj", other_mmproj),
             "make-model --arch qwen2vl --vision qwen25vl-tiny")
    for model, tower in ((text, other_mmproj), (other_text, mmproj)):
        r = sluice("logits", "-m", model, "--mmproj", tower, "--image", d / "wide.png", "--tokens",
                   "151644 872 198 <image> 9707 151645 198", "-o", tmp_path / "x.f32")
        check_clean_error(r, ("mmproj", "width", "deepstack", "projector"),
                          f"{model.name} with {tower.name}")
