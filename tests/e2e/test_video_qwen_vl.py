"""Video on Qwen-VL towers, the models' own way (transformers' Qwen2VLVideoProcessor /
Qwen3VLProcessor and get_rope_index; llama.cpp's mtmd takes no video): two consecutive frames make
one temporal patch through the two halves of the patch Conv3d. Qwen2-VL / Qwen2.5-VL: the whole
video is ONE <|vision_start|><|video_pad|>...<|vision_end|> run of ceil(F / 2) * (h / 28) * (w / 28)
tokens. Qwen3-VL: each temporal patch its own run after "<t seconds>", all inside the template's
<|vision_start|> ... <|vision_end|>.

The towers (`sluice vision-embed --video`) against numpy float64 references written from
transformers (tests/reference/numpy_qwen25vl_vision.py and numpy_qwen3vl_vision.py --video) on
Qwen2.5-VL, Qwen2-VL and Qwen3-VL mmprojs: odd and even frame counts, one window and several.
Then served end to end (`make-model --arch qwen2vl --vision qwen25vl-tiny`, the official `openai`
client, lossless videos made with PyAV): the prompt holds the video's token run (frames sized by
transformers' smart resize within 128..768 tokens a frame), the model answers, a repeated video
is a full prefix-cache hit without running the encoder, one that differs in one sampled frame is
not, its frames count against --max-images, and a remembered video whose rows no cache holds is
decoded again to the same answer. Qwen3-VL served (`--arch qwen3vl --vision qwen3vl-tiny`): the
prompt equals transformers' expanded text tokenized by HF `tokenizers`, a repeat is a full hit,
and a video differing in its second temporal patch reuses the cache up to that patch.
"""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import openai
import pytest

from e2e_util import REFERENCE_DIR, REPO, THREADS, check_ok, read_f32, rel_l2
from server_util import SluiceServer
from test_video_serve import data_url, frames_of, lossless, video_part
from test_vision_serve import cached, chat, full_prompt_hit, user

sys.path.insert(0, str(REFERENCE_DIR))
from gguf_lite import GgufLite  # noqa: E402

TEMPLATE = REPO / "tests" / "data" / "templates" / "qwen2vl_test.jinja"
TEXT_HIDDEN = 256  # the tiny qwen2vl text model's width
W, H = 64, 48  # decoded frame size: grows to 392 x 280 (14 x 10 tokens) under the video minimum
FPS = 4  # the test videos' frame rate; the server samples them at --video-fps 2


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 128 * 28 * 28,
                 max_pixels: int = 768 * 28 * 28) -> tuple[int, int]:
    """transformers' Qwen2VLVideoProcessor sizing (its smart_resize with the video limits)."""
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h, w


def video_tokens(frames: int) -> int:
    h, w = smart_resize(H, W)
    return (frames + 1) // 2 * (h // 28) * (w // 28)


# ---------------------------------------------------------------- the tower


@pytest.fixture(scope="module")
def mmprojs(sluice, venv_python, tmp_path_factory):
    """Float mmprojs: make-model's Qwen2.5-VL tiny tower, gguf-py's Qwen2.5-VL and Qwen2-VL."""
    d = tmp_path_factory.mktemp("qwen_video_towers")
    out = {"make-model qwen25vl-tiny": d / "tiny.gguf"}
    check_ok(sluice("make-model", "--arch", "qwen2vl", "--preset", "tiny", "-o", d / "unused.gguf",
                    "--vision", "qwen25vl-tiny", "--mmproj-type", "f32", "--mmproj",
                    out["make-model qwen25vl-tiny"], "--seed", 3), "make-model --vision")
    out["make-model qwen3vl-tiny"] = d / "qwen3vl-tiny.gguf"
    check_ok(sluice("make-model", "--arch", "qwen3", "--preset", "tiny", "-o", d / "unused3.gguf",
                    "--vision", "qwen3vl-tiny", "--mmproj-type", "f32", "--mmproj",
                    out["make-model qwen3vl-tiny"], "--seed", 3), "make-model --vision qwen3vl")
    for preset in ("small", "qwen2vl-small"):
        path = d / f"gguf-py-{preset}.gguf"
        check_ok(subprocess.run([venv_python, str(REFERENCE_DIR / "gguf_py_random_qwen25vl_mmproj.py"),
                                 "--projection-dim", str(TEXT_HIDDEN), "--preset", preset, "--type",
                                 "f32", "-o", str(path), "--seed", "5"],
                                capture_output=True, text=True, timeout=600), preset)
        out[f"gguf-py {preset}"] = path
    return out


def normalized_frames(mmproj, n: int, h: int, w: int, seed: int) -> np.ndarray:
    """n random photo-like frames [n, 3, h, w], normalized with the mmproj's mean and std."""
    md = GgufLite(str(mmproj)).metadata
    mean, std = (np.asarray(md[k], dtype=np.float32)
                 for k in ("clip.vision.image_mean", "clip.vision.image_std"))
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    out = []
    for i in range(n):  # a drifting gradient plus noise: frames alike but not equal
        rgb = np.stack([(x + 7 * i) / w, (y + 5 * i) / h, (x + y) / (h + w)], -1)
        rgb = np.clip(rgb + rng.normal(0, 0.1, rgb.shape), 0, 1).astype(np.float32)
        out.append(((rgb - mean) / std).transpose(2, 0, 1))
    return np.stack(out)


@pytest.mark.parametrize("tower,frames,size", [
    ("make-model qwen25vl-tiny", 3, (56, 84)),   # odd: the last frame repeated; one window
    ("make-model qwen25vl-tiny", 4, (168, 308)),  # several windows per temporal patch
    ("gguf-py small", 5, (112, 56)),
    ("gguf-py qwen2vl-small", 4, (112, 168)),     # Qwen2-VL: LayerNorm, quick GELU, no windows
    ("make-model qwen3vl-tiny", 3, (64, 96)),     # Qwen3-VL: learned positions, DeepStack
    ("make-model qwen3vl-tiny", 4, (128, 192)),
])
def test_tower_video_matches_float64_reference(tower, frames, size, mmprojs, sluice, reference,
                                               record, tmp_path):
    mmproj, (h, w) = mmprojs[tower], size
    pixels = tmp_path / "frames.f32"
    video = normalized_frames(mmproj, frames, h, w, seed=frames)
    video.astype("<f4").tofile(pixels)
    r = check_ok(sluice("vision-embed", "--mmproj", mmproj, "--pixels", pixels, "--size", f"{h}x{w}",
                        "--video", "-o", tmp_path / "ours.f32", "--threads", THREADS),
                 "sluice vision-embed --video")
    ours = read_f32(tmp_path / "ours.f32")
    qwen3 = "qwen3vl" in tower
    reference("numpy_qwen3vl_vision.py" if qwen3 else "numpy_qwen25vl_vision.py", "--mmproj",
              mmproj, "--pixels", pixels, "--size", f"{h}x{w}", "--video", "-o", tmp_path / "exact.f32")
    exact = read_f32(tmp_path / "exact.f32")
    side = 32 if qwen3 else 28
    tokens = (frames + 1) // 2 * (h // side) * (w // side)
    width = TEXT_HIDDEN * (3 if qwen3 else 1)  # qwen3vl-tiny: the main merger and 2 DeepStack
    assert ours.size == exact.size == tokens * width, (ours.size, exact.size, r.stderr)
    assert exact.std() > 0.3
    err = rel_l2(ours, exact)
    record(f"qwen video {tower} {frames} frames {h}x{w}: {tokens} tokens; rel L2 sluice-vs-f64 "
           f"{err:.2e}")
    assert err <= 1e-5, err


# ---------------------------------------------------------------- served


@pytest.fixture(scope="module")
def files(sluice, tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen_video_serve")
    text, mmproj = d / "qwen2vl.gguf", d / "mmproj.gguf"
    check_ok(sluice("make-model", "--arch", "qwen2vl", "--preset", "tiny", "--format", "gguf-f16",
                    "--seed", 5, "-o", text, "--vision", "qwen25vl-tiny", "--mmproj", mmproj,
                    "--mmproj-type", "f16"), "make-model --arch qwen2vl --vision qwen25vl-tiny")
    return text, mmproj


def serve(sluice_bin, files, *flags: str) -> SluiceServer:
    text, mmproj = files
    return SluiceServer(sluice_bin, "-m", text, "--mmproj", mmproj, "--chat-template", TEMPLATE,
                        "--threads", "1", "--deterministic", "--video-fps", "2", *flags)


@pytest.fixture(scope="module")
def server(sluice_bin, files):
    with serve(sluice_bin, files, "--max-images", "6") as s:
        yield s


@pytest.fixture(scope="module")
def oai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)


def clip(seed: int, seconds: float = 2.0, change: int | None = None) -> bytes:
    """A lossless video of `seconds` at FPS; at --video-fps 2 every other frame is sampled.
    `change`: that frame's pixels replaced (another clip, the same elsewhere)."""
    frames = [f.copy() for f in frames_of(seed, int(seconds * FPS))]
    if change is not None:
        frames[change] = frames_of(seed + 500, 1)[0]
    return lossless(frames, fps=FPS)


@pytest.fixture(scope="module")
def ids(default_tokenizer) -> dict[str, int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(default_tokenizer("qwen2vl")))
    return {t: tok.token_to_id(t) for t in
            ("<|vision_start|>", "<|vision_end|>", "<|video_pad|>", "<|image_pad|>")}


def tokenize(server: SluiceServer, messages: list) -> list[int]:
    status, body = server.post("/tokenize", {"messages": messages, "add_generation_prompt": True})
    assert status == 200, body
    return body["tokens"]


def video_run(tokens: list[int], ids: dict[str, int]) -> tuple[int, int]:
    """(offset, length) of the one video placeholder run between vision_start and vision_end."""
    assert tokens.count(ids["<|vision_start|>"]) == 1 and ids["<|image_pad|>"] not in tokens
    start = tokens.index(ids["<|vision_start|>"]) + 1
    end = tokens.index(ids["<|vision_end|>"])
    assert set(tokens[start:end]) == {ids["<|video_pad|>"]}
    return start, end - start


@pytest.mark.parametrize("seconds,frames", [(2.0, 4), (1.5, 3)])
def test_a_video_is_one_placeholder_run(server, ids, seconds, frames):
    """2 s at --video-fps 2: 4 frames, 2 temporal patches of 10 x 14 tokens; 1.5 s: 3 frames,
    the last repeated into a second patch."""
    tokens = tokenize(server, [user("What happens?", video_part(data_url(clip(10, seconds))))])
    _, length = video_run(tokens, ids)
    assert length == video_tokens(frames) == 2 * 10 * 14


def test_openai_client_answers_about_a_video(server, oai, ids):
    messages = [user("What happens in this video?", video_part(data_url(clip(11))))]
    r = chat(oai, messages, max_tokens=6, extra_body={"ignore_eos": True})
    assert r.choices[0].finish_reason == "length" and r.choices[0].message.content
    assert r.usage.prompt_tokens == len(tokenize(server, messages))
    text = [t for t in oai.chat.completions.create(
        model="m", messages=messages, max_tokens=6, temperature=0, stream=True,
        extra_body={"ignore_eos": True}) if t.choices]
    assert "".join(c.choices[0].delta.content or "" for c in text) == r.choices[0].message.content


def test_a_repeated_video_is_a_full_prefix_hit_and_one_frame_less_is_not(server, oai, ids):
    """The clip's content hash covers every frame: a repeat reuses the whole prompt and never
    runs the encoder; a clip whose third sampled frame differs is a hit only up to the video."""
    question = "Describe what moves, frame by frame."
    same = [user(question, video_part(data_url(clip(12))))]
    other = [user(question, video_part(data_url(clip(12, change=4))))]  # frame 4: sampled third
    offset, _ = video_run(tokenize(server, same), ids)
    before = server.metrics()
    first = chat(oai, same, max_tokens=6)
    mid = server.metrics()
    again = chat(oai, same, max_tokens=6)
    after = server.metrics()
    assert mid["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 1
    assert after["sluice_images_encoded_total"] == mid["sluice_images_encoded_total"]
    assert cached(first) <= offset
    assert cached(again) == full_prompt_hit(again.usage.prompt_tokens)
    assert again.choices[0].message.content == first.choices[0].message.content
    changed = chat(oai, other, max_tokens=6)
    assert changed.usage.prompt_tokens == first.usage.prompt_tokens
    assert cached(changed) <= offset
    assert server.metrics()["sluice_images_encoded_total"] == after["sluice_images_encoded_total"] + 1
    # A frame between the sampled ones changes nothing the model sees.
    unseen = chat(oai, [user(question, video_part(data_url(clip(12, change=5))))], max_tokens=6)
    assert cached(unseen) == full_prompt_hit(unseen.usage.prompt_tokens)


def test_a_videos_frames_count_against_max_images(sluice_bin, files):
    with serve(sluice_bin, files, "--max-images", "3") as s:
        status, body = s.post("/v1/chat/completions", {"model": "m", "max_tokens": 2, "messages": [
            user("Watch:", video_part(data_url(clip(13))))]})
        assert status == 400, body
        assert "the request has 4 images" in body["error"]["message"], body
        status, body = s.post("/v1/chat/completions", {"model": "m", "max_tokens": 2, "messages": [
            user("Watch:", video_part(data_url(clip(13, seconds=1.5))))]})
        assert status == 200, body


def test_a_remembered_video_is_decoded_again_when_no_cache_holds_it(sluice_bin, files):
    """Without the prefix and encoder caches a repeat runs the encoder on frames decoded again
    (the memo spared their hashing only): the same answer."""
    with serve(sluice_bin, files, "--no-prefix-cache", "--encoder-cache-memory", "0") as s:
        client = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0)
        messages = [user("Describe it.", video_part(data_url(clip(14, seconds=1.5))))]
        first = chat(client, messages, max_tokens=8, extra_body={"ignore_eos": True})
        again = chat(client, messages, max_tokens=8, extra_body={"ignore_eos": True})
        m = s.metrics()
        assert m['sluice_media_decodes_total{kind="video"}'] == 1
        assert m['sluice_media_memo_hits_total{kind="video"}'] == 1
        assert m["sluice_images_encoded_total"] == 2
        assert again.choices[0].message.content == first.choices[0].message.content


# ---------------------------------------------------------------- Qwen3-VL served

QWEN3_TEMPLATE = REPO / "tests" / "data" / "templates" / "qwen3vl_test.jinja"


@pytest.fixture(scope="module")
def qwen3_server(sluice_bin, sluice, tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen3vl_video_serve")
    text, mmproj = d / "qwen3vl.gguf", d / "mmproj.gguf"
    check_ok(sluice("make-model", "--arch", "qwen3vl", "--preset", "tiny", "--format", "gguf-f16",
                    "--seed", 5, "-o", text, "--vision", "qwen3vl-tiny", "--mmproj", mmproj,
                    "--mmproj-type", "f16"), "make-model --arch qwen3vl --vision qwen3vl-tiny")
    with SluiceServer(sluice_bin, "-m", text, "--mmproj", mmproj, "--chat-template",
                      QWEN3_TEMPLATE, "--threads", "1", "--deterministic", "--video-fps", "2") as s:
        yield s


def qwen3_expected(messages: list, times: list[float], tokens_per_patch: int) -> str:
    """Qwen3VLProcessor's text: the template's video marker with its <|video_pad|> replaced by
    "<t seconds>" + <|vision_start|> + pads + <|vision_end|> per temporal patch."""
    import jinja2

    text = jinja2.Environment().from_string(QWEN3_TEMPLATE.read_text()).render(
        messages=[{"role": m["role"], "content": [
            {"type": "video"} if p["type"] == "video_url" else p for p in m["content"]]}
            for m in messages], add_generation_prompt=True)
    if len(times) % 2:
        times = times + times[-1:]
    video = "".join(f"<{(times[i] + times[i + 1]) / 2:.1f} seconds><|vision_start|>"
                    + "<|video_pad|>" * tokens_per_patch + "<|vision_end|>"
                    for i in range(0, len(times), 2))
    return text.replace("<|video_pad|>", video, 1)


@pytest.mark.parametrize("seconds,times", [(2.0, [0, 0.5, 1.0, 1.5]), (1.5, [0, 0.5, 1.0])])
def test_qwen3vl_prompt_is_transformers_expanded_text(qwen3_server, default_tokenizer, seconds,
                                                      times):
    """Frames of 64 x 48 grow to 448 x 320 (14 x 10 tokens of 32 px); each temporal patch after
    its mean time, one decimal ("<0.2 seconds>": 0.25 rounds to even, as Python's format does)."""
    from tokenizers import Tokenizer

    messages = [user("What happens?", video_part(data_url(clip(20, seconds))), "Answer briefly.")]
    want = Tokenizer.from_file(str(default_tokenizer("qwen3vl"))).encode(
        qwen3_expected(messages, times, 14 * 10), add_special_tokens=False).ids
    assert tokenize(qwen3_server, messages) == want


def test_qwen3vl_video_caches_by_temporal_patch(qwen3_server, default_tokenizer):
    from tokenizers import Tokenizer

    client = openai.OpenAI(base_url=qwen3_server.base_url + "/v1", api_key="x", max_retries=0)
    pad = Tokenizer.from_file(str(default_tokenizer("qwen3vl"))).token_to_id("<|video_pad|>")
    question = "What changes between the two halves of this clip?"
    same = [user(question, video_part(data_url(clip(21))))]
    tokens = tokenize(qwen3_server, same)
    second_patch = next(i for i in range(1, len(tokens))
                        if tokens[i] == pad and tokens[i - 1] != pad and i > tokens.index(pad))
    first = chat(client, same, max_tokens=6)
    again = chat(client, same, max_tokens=6)
    assert first.choices[0].finish_reason in ("stop", "length")
    assert cached(again) == full_prompt_hit(again.usage.prompt_tokens)
    assert again.choices[0].message.content == first.choices[0].message.content
    # Frame 4 is the first of the second temporal patch: the first patch is still a hit.
    changed = chat(client, [user(question, video_part(data_url(clip(21, change=4))))], max_tokens=6)
    assert second_patch // 16 * 16 <= cached(changed) < full_prompt_hit(changed.usage.prompt_tokens)
    assert cached(changed) <= second_patch


def test_logits_command_takes_a_video(sluice, files, ids, tmp_path):
    """`sluice logits --video` (the transformers comparison's path, bench/gpu/device_qwen_vl_hf.sh):
    two equal frames make the temporal patch an image makes of one picture (Qwen2-VL repeats an
    image in time), so the video's logits are the image's; other frames change them."""
    from PIL import Image

    text, mmproj = files
    pictures = []
    for i, frame in enumerate(frames_of(41, 3)):
        pictures.append(tmp_path / f"frame{i}.png")
        Image.fromarray(frame).resize((448, 336), Image.BICUBIC).save(pictures[-1])
    start, end = ids["<|vision_start|>"], ids["<|vision_end|>"]

    def logits(out: str, *args) -> np.ndarray:
        check_ok(sluice("logits", "-m", text, "--mmproj", mmproj, "--threads", THREADS,
                        "-o", tmp_path / out, *args), "logits " + out)
        return read_f32(tmp_path / out)

    image = logits("image.f32", "--image", pictures[0], "--tokens", f"11 {start} <image> {end} 21")
    same = logits("same.f32", "--video", pictures[0], pictures[0], "--tokens",
                  f"11 {start} <video> {end} 21")
    moving = logits("moving.f32", "--video", *pictures, "--tokens", f"11 {start} <video> {end} 21")
    assert rel_l2(same, image) < 1e-5
    assert rel_l2(moving, image) > 1e-3
    r = sluice("logits", "-m", text, "--mmproj", mmproj, "--video", pictures[0], "--tokens",
               "11 21", "-o", tmp_path / "x.f32")
    assert r.returncode != 0 and "exactly one <video> word" in r.stderr, r.stderr
