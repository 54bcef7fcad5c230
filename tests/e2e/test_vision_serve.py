"""Images served to a Gemma 3 vision model (a random-weight text model with Gemma 3's vocabulary
and a tiny tower: 16 soft tokens per image), end to end: the official `openai` and `anthropic`
clients send pictures as base64 and as URLs of a local HTTP server; the encoder and prefix caches
key on the decoded pixels (never on the placeholder tokens alone); many requests with aborts,
preemptions and encoder-cache eviction leak nothing; bad images and URLs are 400s in each API's
error shape, and the server stays up.
"""
from __future__ import annotations

import base64
import http.client
import io
import json
import random
import threading
import time
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import numpy as np
import openai
import pytest
from PIL import Image, ImageDraw, ImageFilter

from e2e_util import FULL, REPO, check_ok
from server_util import SluiceServer

TEMPLATE = REPO / "tests" / "data" / "templates" / "gemma3_vision_test.jinja"
BLOCK = 16  # --block-size (the default)
IMAGE_TOKENS = 16  # the tiny tower's soft tokens per image
KV_SMALL = "300000"  # bytes: ~300 tokens of the tiny model's KV cache, so requests preempt
MAX_MEDIA_BYTES = 2_000_000  # --max-media-bytes
SLOW_S = 3.0  # the slow media handler's delay; the servers wait --media-timeout 1


# ---------------------------------------------------------------- pictures


def photo(seed: int, width: int, height: int) -> Image.Image:
    """A photo-like picture: a lit gradient, soft blobs, a horizon, sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = x / max(width, 1), y / max(height, 1)
    rgb = np.empty((height, width, 3), np.float32)
    for c in range(3):
        a, b, d = rng.uniform(-120, 120, 3)
        rgb[..., c] = 128 + a * (x - 0.5) + b * (y - 0.5) + d * np.sin(6 * x * rng.uniform(0.5, 2))
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.05, 0.3) * max(width, height)
        draw.ellipse([cx - r, cy - r * 0.7, cx + r, cy + r * 0.7],
                     fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    horizon = int(rng.uniform(0.4, 0.8) * height)
    draw.rectangle([0, horizon, width, height], fill=tuple(int(v) for v in rng.integers(0, 120, 3)))
    img = img.filter(ImageFilter.GaussianBlur(radius=max(1, min(width, height) // 80)))
    noisy = np.asarray(img, np.float32) + rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def encoded(img: Image.Image, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=90)
    elif fmt == "WEBP":
        img.save(out, "WEBP", lossless=True)
    else:
        img.save(out, fmt)
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side x side black pixels: ~110 KB that would decode to 900 Mpixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))

    ihdr = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit gray, no interlace
    z = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# Several sizes and aspect ratios (the tower squares them all to 224 x 224).
SIZES = [(640, 480), (300, 500), (1024, 256), (224, 224), (37, 91), (800, 600)]


@pytest.fixture(scope="module")
def pictures() -> dict[str, bytes]:
    """Encoded test pictures by name (the media server serves them at /img/NAME)."""
    out = {}
    for i, (w, h) in enumerate(SIZES):
        out[f"p{i}.jpg"] = encoded(photo(100 + i, w, h), "JPEG")
    out["same_size_a.png"] = encoded(photo(7, 320, 240), "PNG")
    out["same_size_b.png"] = encoded(photo(8, 320, 240), "PNG")
    twin = photo(9, 256, 192)
    out["twin.png"] = encoded(twin, "PNG")
    out["twin.webp"] = encoded(twin, "WEBP")  # the same pixels, another (lossless) format
    out["palette.gif"] = encoded(photo(10, 120, 80).convert("P"), "GIF")
    return out


# ---------------------------------------------------------------- a local media server


class MediaServer:
    """A thread serving /img/NAME, /slow/NAME (after SLOW_S), /redirect/NAME (302 to
    http://127.0.0.1:PORT/img/NAME) and 404 for anything else; `hits` lists the paths asked."""

    def __init__(self, files: dict[str, bytes]):
        media = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                media.hits.append(self.path)
                kind, _, name = self.path.lstrip("/").partition("/")
                if kind == "redirect" and name in files:
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{media.port}/img/{name}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if kind not in ("img", "slow") or name not in files:
                    self.send_error(404)
                    return
                if kind == "slow":
                    time.sleep(SLOW_S)
                body = files[name]
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the fetcher gave up (timeout)
                    pass

        self.hits: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def media(pictures):
    m = MediaServer({**pictures, "big.bin": random.Random(0).randbytes(MAX_MEDIA_BYTES + 1)})
    yield m
    m.close()


# ---------------------------------------------------------------- models and servers


@pytest.fixture(scope="module")
def vision_model(sluice, tmp_path_factory):
    """(text GGUF, mmproj GGUF): random weights, Gemma 3's real vocabulary, the tiny tower."""
    tokenizer = REPO / "models" / "gemma3-270m-q4_k_m.gguf"
    if not tokenizer.is_file():
        pytest.fail(f"{tokenizer} is missing (run scripts/setup_test)", pytrace=False)
    out = tmp_path_factory.mktemp("vision")
    text, mmproj = out / "gemma3-vision-tiny.gguf", out / "mmproj.gguf"
    check_ok(sluice("make-model", "--arch", "gemma3", "--preset", "tiny", "--tokenizer", tokenizer,
                    "--format", "gguf-q8_0", "--vision", "tiny", "--mmproj", mmproj, "-o", text),
             "sluice make-model --vision tiny")
    return text, mmproj


def test_the_text_model_loads_in_llama_cpp(vision_model):
    """make-model copies a GGUF tokenizer with the spec's key types (token ids are uint32, which
    llama.cpp checks), so llama.cpp's server can be run on the same files."""
    import gguf
    import llama_cpp

    fields = gguf.GGUFReader(str(vision_model[0])).fields
    assert fields["tokenizer.ggml.bos_token_id"].types == [gguf.GGUFValueType.UINT32]
    llm = llama_cpp.Llama(str(vision_model[0]), vocab_only=True, verbose=False)
    assert llm.n_vocab() == 262144


def vision_server(sluice_bin, vision_model, *args: str) -> SluiceServer:
    # One thread: the model is tiny, and OpenMP's spinning barriers made a 2-thread server ~20x
    # slower per token on a shared 2-core machine whenever another process held a core.
    text, mmproj = vision_model
    return SluiceServer(sluice_bin, "-m", text, "--mmproj", mmproj, "--chat-template", TEMPLATE,
                        "--threads", "1", *args)


def common_flags(media: MediaServer) -> list[str]:
    # Only localhost:PORT may be fetched, so a redirect to 127.0.0.1:PORT is refused.
    return ["--allowed-media-hosts", f"localhost:{media.port}", "--media-timeout", "1",
            "--max-images", "2", "--max-media-bytes", str(MAX_MEDIA_BYTES), "--deterministic"]


@pytest.fixture(scope="module")
def server(sluice_bin, vision_model, media):
    with vision_server(sluice_bin, vision_model, *common_flags(media)) as s:
        yield s


@pytest.fixture(scope="module")
def oai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)


@pytest.fixture(scope="module")
def claude(server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="x", max_retries=0)


def wait_idle(server: SluiceServer, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        m = server.metrics()
        if (m["sluice_kv_cache_blocks_used"] == 0 and m["sluice_num_requests_running"] == 0
                and m["sluice_num_requests_waiting"] == 0) or time.monotonic() > deadline:
            return m
        time.sleep(0.05)


# ---------------------------------------------------------------- requests


def image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def user(*parts) -> dict:
    return {"role": "user", "content": [p if isinstance(p, dict) else {"type": "text", "text": p}
                                        for p in parts]}


def chat(client: openai.OpenAI, messages: list, **kw):
    kw.setdefault("max_tokens", 4)
    return client.chat.completions.create(model="m", messages=messages, temperature=0, **kw)


def image_offset(server: SluiceServer, messages: list) -> int:
    """Where the first image's placeholder tokens start in the rendered prompt (/tokenize)."""
    status, body = server.post("/tokenize", {"messages": messages, "add_generation_prompt": True})
    assert status == 200, body
    tokens = body["tokens"]
    # The placeholders are 16 equal ids (here <start_of_image>'s own: the vocabulary has no
    # <image_soft_token>), so the image is the last 16 tokens of the first run that long.
    run = 1
    for i in range(1, len(tokens) + 1):
        if i < len(tokens) and tokens[i] == tokens[i - 1]:
            run += 1
            continue
        if run >= IMAGE_TOKENS:
            return i - IMAGE_TOKENS
        run = 1
    raise AssertionError(f"no image placeholders in {tokens}")


def first_top_logprobs(r) -> list[tuple[str, float]]:
    return [(t.token, t.logprob) for t in r.choices[0].logprobs.content[0].top_logprobs]


def cached(r) -> int:
    return r.usage.prompt_tokens_details.cached_tokens


def full_prompt_hit(prompt_tokens: int) -> int:
    """The most a prefix-cache hit covers: whole blocks, leaving at least one token to compute."""
    return (prompt_tokens - 1) // BLOCK * BLOCK


# ---------------------------------------------------------------- 1. the client libraries


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("source", ["base64", "url"])
def test_openai_client_sends_images(oai, media, pictures, source, stream):
    name = "p0.jpg" if source == "base64" else "p1.jpg"
    url = data_url(pictures[name]) if source == "base64" else media.url(f"/img/{name}")
    messages = [user("What is in this picture?", image_part(url))]
    if not stream:
        r = chat(oai, messages, max_tokens=6)
        assert r.choices[0].finish_reason in ("stop", "length")
        assert isinstance(r.choices[0].message.content, str)
        assert r.usage.completion_tokens >= 1
        assert r.usage.prompt_tokens > IMAGE_TOKENS + 10  # the image's placeholders are counted
        return
    chunks = list(oai.chat.completions.create(
        model="m", messages=messages, max_tokens=6, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish and finish[-1] in ("stop", "length"), chunks
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > IMAGE_TOKENS + 10
    assert 1 <= usage.completion_tokens <= 6 and isinstance(text, str)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("source", ["base64", "url"])
def test_anthropic_client_sends_images(claude, media, pictures, source, stream):
    name = "p2.jpg" if source == "base64" else "p3.jpg"
    src = ({"type": "base64", "media_type": "image/jpeg",
            "data": base64.b64encode(pictures[name]).decode()} if source == "base64"
           else {"type": "url", "url": media.url(f"/img/{name}")})
    messages = [{"role": "user", "content": [{"type": "image", "source": src},
                                             {"type": "text", "text": "Describe the image."}]}]
    if stream:
        with claude.messages.stream(model="m", max_tokens=6, extra_body={"temperature": 0},
                                    messages=messages) as s:
            events = [e.type for e in s]
            msg = s.get_final_message()
        assert events[0] == "message_start" and events[-1] == "message_stop", events
    else:
        msg = claude.messages.create(model="m", max_tokens=6, extra_body={"temperature": 0},
                                     messages=messages)
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.stop_reason in ("end_turn", "max_tokens")
    assert 1 <= msg.usage.output_tokens <= 6
    prompt = msg.usage.input_tokens + (msg.usage.cache_read_input_tokens or 0)
    assert prompt > IMAGE_TOKENS + 10
    assert claude.messages.count_tokens(model="m", messages=messages).input_tokens == prompt


def test_anthropic_tool_result_carries_images(claude, pictures):
    """An agent's tool result with a screenshot (Claude Code reading an image file): the picture
    in the tool_result is encoded and counted like one in a user message."""
    shot = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                        "data": base64.b64encode(pictures["p2.jpg"]).decode()}}
    def conversation(result_content):
        return [{"role": "user", "content": "Take a screenshot."},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1",
                                                   "name": "screenshot", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                              "content": result_content},
                                             {"type": "text", "text": "What is on it?"}]}]
    with_image = conversation([{"type": "text", "text": "Here it is:"}, shot])
    text_only = conversation([{"type": "text", "text": "Here it is:"}])
    n_image = claude.messages.count_tokens(model="m", messages=with_image).input_tokens
    n_text = claude.messages.count_tokens(model="m", messages=text_only).input_tokens
    assert n_image - n_text >= IMAGE_TOKENS, (n_image, n_text)
    msg = claude.messages.create(model="m", max_tokens=4, extra_body={"temperature": 0},
                                 messages=with_image)
    assert msg.usage.input_tokens + (msg.usage.cache_read_input_tokens or 0) == n_image
    bad = conversation([{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                      "data": "bm90IGFuIGltYWdl"}}])
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.messages.create(model="m", max_tokens=4, messages=bad)
    assert "unsupported image format" in str(e.value), e.value


def test_responses_api_input_image(oai, pictures):
    r = oai.responses.create(model="m", max_output_tokens=6, temperature=0, input=[
        {"role": "user", "content": [
            {"type": "input_text", "text": "What do you see?"},
            {"type": "input_image", "image_url": data_url(pictures["p4.jpg"]), "detail": "auto"}]}])
    assert r.status in ("completed", "incomplete"), r
    assert isinstance(r.output_text, str)
    assert r.usage.input_tokens > IMAGE_TOKENS + 10 and r.usage.output_tokens >= 1
    # The same picture again: the prefix cache covers its tokens.
    again = oai.responses.create(model="m", max_output_tokens=2, temperature=0, input=[
        {"role": "user", "content": [
            {"type": "input_text", "text": "What do you see?"},
            {"type": "input_image", "image_url": data_url(pictures["p4.jpg"])}]}])
    assert again.usage.input_tokens_details.cached_tokens == full_prompt_hit(again.usage.input_tokens)


# ---------------------------------------------------------------- 2. the caches


def test_same_image_by_url_then_base64_is_a_hit(server, oai, media, pictures):
    before = server.metrics()
    by_url = [user("Caption this photo.", image_part(media.url("/img/p5.jpg")))]
    by_b64 = [user("Caption this photo.", image_part(data_url(pictures["p5.jpg"])))]
    first, second = chat(oai, by_url), chat(oai, by_b64)
    end = image_offset(server, by_b64) + IMAGE_TOKENS
    assert cached(first) == 0
    assert first.usage.prompt_tokens == second.usage.prompt_tokens
    assert cached(second) == full_prompt_hit(second.usage.prompt_tokens) >= end
    after = server.metrics()
    assert after["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 1
    # The URL's file and the data URL's text are other memo keys: each decoded once, then known.
    decodes = 'sluice_media_decodes_total{kind="image"}'
    hits = 'sluice_media_memo_hits_total{kind="image"}'
    assert after[decodes] - before[decodes] == 2
    chat(oai, by_b64)
    final = server.metrics()
    assert (final[decodes], final[hits]) == (after[decodes], after[hits] + 1)


def test_same_pixels_in_another_format_and_context_hit_the_encoder_cache(server, oai, pictures):
    """twin.png and twin.webp (lossless) decode to the same pixels: one encoder run. Different
    text before the image misses the prefix cache, so the second is an encoder-cache hit."""
    before = server.metrics()
    chat(oai, [user("First question about", image_part(data_url(pictures["twin.png"], "image/png")))])
    r = chat(oai, [user("A different question entirely, about",
                        image_part(data_url(pictures["twin.webp"], "image/webp")))])
    after = server.metrics()
    assert after["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 1
    assert after["sluice_encoder_cache_hits_total"] - before["sluice_encoder_cache_hits_total"] == 1
    assert cached(r) < image_offset(server, [user("A different question entirely, about",
                                                  image_part(data_url(pictures["twin.png"])))])


def test_different_images_of_the_same_size_do_not_share_blocks(server, oai, pictures):
    """Same size -> the same placeholder tokens: only the blocks before the image may be shared.
    A long text first puts the image in the middle of a block."""
    text = "Here is a long preamble so that the picture starts inside a later block. " * 3
    a = [user(text, image_part(data_url(pictures["same_size_a.png"], "image/png")))]
    b = [user(text, image_part(data_url(pictures["same_size_b.png"], "image/png")))]
    offset = image_offset(server, a)
    assert offset == image_offset(server, b) and offset % BLOCK != 0 and offset > BLOCK, offset
    before = server.metrics()
    ra, rb = chat(oai, a, logprobs=True, top_logprobs=5), chat(oai, b, logprobs=True, top_logprobs=5)
    assert ra.usage.prompt_tokens == rb.usage.prompt_tokens
    assert cached(rb) == offset // BLOCK * BLOCK, (cached(rb), offset)
    after = server.metrics()
    assert after["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 2
    # Different pictures give different next-token distributions.
    assert first_top_logprobs(ra) != first_top_logprobs(rb)


def test_a_conversation_hits_after_one_more_turn(oai, pictures):
    turn1 = [user("What animal is this?", image_part(data_url(pictures["p1.jpg"])))]
    r1 = chat(oai, turn1, max_tokens=5)
    turn2 = turn1 + [{"role": "assistant", "content": r1.choices[0].message.content},
                     user("And what colour is it?")]
    r2 = chat(oai, turn2, max_tokens=3)
    assert r2.usage.prompt_tokens > r1.usage.prompt_tokens
    # The first turn's whole blocks (the image's included) are reused.
    assert r1.usage.prompt_tokens // BLOCK * BLOCK <= cached(r2) < r2.usage.prompt_tokens


def test_cached_split_and_cold_images_give_identical_greedy_output(sluice_bin, vision_model,
                                                                    media, server, oai, pictures):
    """One request, its picture's tokens computed four ways: behind a prefix hit that ends inside
    the image, from a whole-prompt prefix hit, cold in prefill chunks of 16 tokens (no prefix
    cache), and cold again with the encoder's output cached. Greedy text and first-token
    log-probabilities agree bit for bit (--deterministic)."""
    image = image_part(data_url(pictures["p2.jpg"]))
    short = [user(image, "Tell me.")]
    messages = [user(image, "Tell me about this scene: the light, the colours and the shapes.")]
    offset = image_offset(server, messages)
    assert offset < BLOCK < offset + IMAGE_TOKENS, offset  # block 0 ends inside the image
    kw = dict(max_tokens=8, logprobs=True, top_logprobs=5)
    chat(oai, short, max_tokens=1)  # caches block 0 only: its block 1 holds other text
    split, whole = chat(oai, messages, **kw), chat(oai, messages, **kw)
    assert cached(split) == BLOCK
    assert cached(whole) == full_prompt_hit(whole.usage.prompt_tokens)
    with vision_server(sluice_bin, vision_model, *common_flags(media), "--no-prefix-cache",
                       "--max-num-batched-tokens", str(IMAGE_TOKENS)) as s:
        client = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0)
        cold, cold_encoder_hit = chat(client, messages, **kw), chat(client, messages, **kw)
        m = s.metrics()
        assert m["sluice_images_encoded_total"] == m["sluice_encoder_cache_hits_total"] == 1
    assert cached(cold) == cached(cold_encoder_hit) == 0
    runs = (split, whole, cold, cold_encoder_hit)
    assert len({r.choices[0].message.content for r in runs}) == 1
    for r in runs:
        assert first_top_logprobs(r) == first_top_logprobs(split), [first_top_logprobs(x) for x in runs]


# ---------------------------------------------------------------- 3. aborts, preemptions, budgets


def _raw_stream(port: int, body: dict, abort_after: int | None) -> int:
    """POSTs a streamed chat request; reads every SSE event, or hangs up after `abort_after`
    events (0: right after sending). Returns the HTTP status (0 when it hung up first)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        if abort_after == 0:
            return 0
        r = conn.getresponse()
        if r.status != 200 or abort_after is None:
            payload = r.read().decode(errors="replace")
            assert r.status != 200 or payload.rstrip().endswith("data: [DONE]"), payload[-300:]
            return r.status
        for _ in range(abort_after):
            if not r.readline():
                break
        return 0
    finally:
        conn.close()


def test_many_requests_with_aborts_and_preemptions_leak_nothing(sluice_bin, vision_model, media,
                                                                record):
    n = 1000 if FULL else 120
    # A few pictures' worth of encoder cache, so that it evicts; a KV pool of a few requests'
    # worth, so that they preempt each other.
    budget = 4 * IMAGE_TOKENS * 256 * 4  # 4 images of [16, 256] floats
    with vision_server(sluice_bin, vision_model, "--allowed-media-hosts", f"localhost:{media.port}",
                       "--encoder-cache-memory", str(budget), "--kv-cache-memory", KV_SMALL,
                       "--max-num-seqs", "8") as s:
        fresh = s.metrics()  # the vision gauges exist before the first request
        assert fresh["sluice_encoder_cache_budget_bytes"] == budget, fresh
        assert fresh["sluice_images_encoded_total"] == fresh["sluice_encoder_cache_entries"] == 0
        pool = [data_url(encoded(photo(500 + i, *SIZES[i % len(SIZES)]), "PNG"), "image/png")
                for i in range(12)]

        sent: set[str] = set()

        def one(i: int) -> tuple[int, bool]:
            r = random.Random(i)
            if r.random() < 0.5:
                url = pool[r.randrange(len(pool))]  # repeated
            else:
                url = data_url(encoded(photo(10_000 + i, r.randint(32, 200), r.randint(32, 200)),
                                       "JPEG"))
            parts = ["Image %d: what is it?" % r.randrange(3), image_part(url)]
            if r.random() < 0.2:
                parts.append(image_part(pool[r.randrange(len(pool))]))
            sent.update(p["image_url"]["url"] for p in parts[1:])
            body = {"model": "m", "messages": [user(*parts)], "max_tokens": r.randint(1, 24),
                    "temperature": 0, "ignore_eos": True, "stream": True}
            abort = r.random() < 0.25
            return _raw_stream(s.port, body, r.choice([0, 1, 3]) if abort else None), abort

        with ThreadPoolExecutor(8) as ex:
            results = list(ex.map(one, range(n)))
        for status, aborted in results:
            assert status == 200 or (aborted and status == 0), (status, aborted)
        m = wait_idle(s)
        assert s.alive()
        assert m["sluice_kv_cache_blocks_used"] == 0, m
        assert m["sluice_num_preemptions_total"] > 0, "no request was preempted (KV pool too big?)"
        assert m["sluice_encoder_cache_budget_bytes"] == budget
        assert 0 < m["sluice_encoder_cache_bytes"] <= budget
        assert m["sluice_encoder_cache_entries"] <= 4
        assert m["sluice_encoder_cache_hits_total"] > 0
        # More runs of the encoder than distinct pictures: evicted ones were encoded again.
        assert m["sluice_images_encoded_total"] > len(sent)
        record(f"vision load: {n} requests ({sum(a for _, a in results)} aborted), "
               f"{len(sent)} distinct images, "
               f"{m['sluice_images_encoded_total']:.0f} encoded, "
               f"{m['sluice_encoder_cache_hits_total']:.0f} encoder-cache hits, "
               f"{m['sluice_num_preemptions_total']:.0f} preemptions")
        # Still serving.
        status, body = s.post("/v1/chat/completions", {
            "model": "m", "max_tokens": 2, "messages": [user("ok?", image_part(pool[0]))]})
        assert status == 200, body


# ---------------------------------------------------------------- 4. bad input


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


@pytest.fixture(scope="module")
def bad_cases(pictures, media, bomb) -> dict[str, tuple[list[str], str]]:
    """name -> (image URLs of the request, a fragment of the error message)."""
    png = bytearray(pictures["same_size_a.png"])
    idat = png.index(b"IDAT") + 4
    png[idat + 10:idat + 200] = bytes(range(190))  # scrambled pixel data, checksums now wrong
    jpeg = pictures["p0.jpg"]
    bmp, tiff = encoded(photo(3, 40, 30), "BMP"), encoded(photo(3, 40, 30), "TIFF")
    ok = data_url(jpeg)
    return {
        "corrupt": ([data_url(bytes(png), "image/png")], "corrupt or truncated PNG"),
        "truncated": ([data_url(jpeg[: len(jpeg) // 2])], "corrupt or truncated JPEG"),
        "bmp": ([data_url(bmp, "image/bmp")], "unsupported image format"),
        "tiff": ([data_url(tiff, "image/tiff")], "unsupported image format"),
        "bomb": ([data_url(bomb, "image/png")], "30000x30000"),
        "too_large": ([data_url(random.Random(1).randbytes(MAX_MEDIA_BYTES + 1))],
                      f"over the {MAX_MEDIA_BYTES}-byte limit"),
        "too_large_by_url": ([media.url("/img/big.bin")], f"over the {MAX_MEDIA_BYTES}-byte limit"),
        "http_404": ([media.url("/img/nothing.jpg")], "HTTP 404"),
        "timeout": ([media.url("/slow/p0.jpg")], "no answer within 1 s"),
        "redirect_to_loopback": ([media.url("/redirect/p0.jpg")], "loopback"),
        "private_address": (["http://10.0.0.1/cat.jpg"], "private"),
        "too_many_images": ([ok, ok, ok], "at most 2"),
        "file_without_media_path": (["file:///etc/hostname"], "--media-path"),
    }


def _send(api: str, server: SluiceServer, urls: list[str], stream: bool = False) -> tuple[int, dict]:
    """The request through the official client; (status, the error body as JSON)."""
    if api == "openai":
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)
        try:
            client.chat.completions.create(
                model="m", max_tokens=2, stream=stream,
                messages=[user("Look:", *[image_part(u) for u in urls])])
        except openai.APIStatusError as e:
            return e.status_code, e.response.json()
        return 200, {}
    blocks = []
    for u in urls:
        if u.startswith("data:"):
            mime, _, data = u[5:].partition(";base64,")
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": mime,
                                                       "data": data}})
        else:
            blocks.append({"type": "image", "source": {"type": "url", "url": u}})
    client = anthropic.Anthropic(base_url=server.base_url, api_key="x", max_retries=0)
    try:
        client.messages.create(model="m", max_tokens=2, stream=stream, messages=[
            {"role": "user", "content": [{"type": "text", "text": "Look:"}, *blocks]}])
    except anthropic.APIStatusError as e:
        return e.status_code, e.response.json()
    return 200, {}


def check_error_shape(api: str, status: int, body: dict, fragment: str) -> str:
    assert status == 400, (status, body)
    if api == "openai":
        err = body["error"]
        assert err["type"] == "invalid_request_error", body
    else:
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error", body
        err = body["error"]
    assert fragment in err["message"], (fragment, err["message"])
    return err["message"]


BAD_CASES = ["corrupt", "truncated", "bmp", "tiff", "bomb", "too_large", "too_large_by_url",
             "http_404", "timeout", "redirect_to_loopback", "private_address", "too_many_images",
             "file_without_media_path"]


@pytest.mark.parametrize("api", ["openai", "anthropic"])
@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_images_are_400s(server, media, bad_cases, case, api):
    urls, fragment = bad_cases[case]
    before = server.metrics()
    hits = len(media.hits)
    t0 = time.monotonic()
    status, body = _send(api, server, urls)
    elapsed = time.monotonic() - t0
    message = check_error_shape(api, status, body, fragment)
    if case == "bomb":  # refused by the header, not after decoding 900 Mpixels
        assert elapsed < 2.0, elapsed
    if case == "timeout":
        assert 0.9 < elapsed < SLOW_S, elapsed
    if case == "private_address":  # refused before any connection
        assert elapsed < 0.8 and "10.0.0.1" in message, (elapsed, message)
    if case == "redirect_to_loopback":  # the redirect is followed no further
        assert "redirected to http://127.0.0.1" in message, message
        assert media.hits[hits:] == ["/redirect/p0.jpg"], media.hits[hits:]
    m = wait_idle(server)
    assert m["sluice_kv_cache_blocks_used"] == 0
    assert m["sluice_images_encoded_total"] == before["sluice_images_encoded_total"]
    assert server.alive()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_bad_image_in_a_streamed_request_is_a_400_before_the_stream(server, bad_cases, api):
    urls, fragment = bad_cases["corrupt"]
    status, body = _send(api, server, urls, stream=True)
    check_error_shape(api, status, body, fragment)
    assert wait_idle(server)["sluice_kv_cache_blocks_used"] == 0


def test_the_bad_cases_are_what_they_claim(server, media, bomb):
    """The same server takes a good image over localhost:PORT and two images in one request, and
    the bomb is a real PNG of 30000 x 30000 that Pillow refuses as a decompression bomb."""
    r = chat(openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0),
             [user("Two pictures:", image_part(media.url("/img/p0.jpg")),
                   image_part(media.url("/img/palette.gif")))], max_tokens=2)
    assert r.usage.completion_tokens >= 1
    assert len(bomb) < 200_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))


def test_images_to_a_text_only_model_are_400s(sluice_bin, smollm2_path, pictures):
    with SluiceServer(sluice_bin, "-m", smollm2_path, "--threads", "1") as s:
        for api in ("openai", "anthropic"):
            status, body = _send(api, s, [data_url(pictures["p0.jpg"])])
            check_error_shape(api, status, body, "takes no images")
        assert wait_idle(s)["sluice_kv_cache_blocks_used"] == 0
        assert s.post("/v1/chat/completions", {"model": "m", "max_tokens": 2, "messages": [
            {"role": "user", "content": "hi"}]})[0] == 200
