"""Video served to a Gemma 3 vision model (the tiny random-weight VLM of test_vision_serve.py, 16
soft tokens per image), end to end: the official `openai` client sends `video_url` parts (MP4 /
H.264, WebM / VP9, GIF, lossless Matroska / FFV1) as base64, by URL from a local HTTP server and
as file:// under --media-path; frames are sampled by time and are exactly the images they were
made from (same content hashes, so the same prompt and a full prefix-cache hit); a repeated
video hits the caches and a different one does not; bad videos are 400s and the server stays up.
Videos are made at test time with PyAV.
"""
from __future__ import annotations

import base64
import io
import wave

import av
import numpy as np
import openai
import pytest
from PIL import Image

from server_util import SluiceServer
from test_vision_serve import (MediaServer, chat, cached, check_error_shape, encoded,
                               full_prompt_hit, photo, user, vision_model, vision_server,
                               wait_idle)

assert vision_model  # the fixture, imported for its name

IMAGE_TOKENS = 16  # the tiny tower's soft tokens per image (and per video frame)
MAX_FRAMES = 4  # --video-max-frames
MAX_IMAGES = 6  # --max-images
MAX_DURATION = 20  # --video-max-duration, seconds
MAX_VIDEO_BYTES = 1_000_000  # --max-video-bytes
W, H = 64, 48  # frame size (even, as H.264's 4:2:0 wants)


# ---------------------------------------------------------------- videos


def frames_of(seed: int, n: int) -> list[np.ndarray]:
    """n distinct photo-like RGB frames."""
    return [np.asarray(photo(seed * 1000 + i, W, H)) for i in range(n)]


def make_video(frames: list[np.ndarray], fmt: str, codec: str, fps: int = 10,
               pix_fmt: str = "yuv420p", options: dict | None = None) -> bytes:
    """The frames at a constant `fps`, encoded with PyAV (FFmpeg) into container `fmt`."""
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
        s.options = options or {}
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return out.getvalue()


def lossless(frames: list[np.ndarray], fps: int = 10) -> bytes:
    """Matroska / FFV1 in BGR0: decodes to exactly these RGB pixels."""
    return make_video(frames, "matroska", "ffv1", fps, pix_fmt="bgr0")


def h264(frames: list[np.ndarray], fps: int = 10) -> bytes:
    return make_video(frames, "mp4", "libx264", fps, options={"crf": "18"})


def vp9(frames: list[np.ndarray], fps: int = 10) -> bytes:
    return make_video(frames, "webm", "libvpx-vp9", fps, options={"deadline": "realtime",
                                                                  "cpu-used": "8"})


def gif(frames: list[np.ndarray], fps: int = 10) -> bytes:
    ims = [Image.fromarray(f).quantize(64) for f in frames]
    out = io.BytesIO()
    ims[0].save(out, "GIF", save_all=True, append_images=ims[1:], duration=1000 // fps, loop=0)
    return out.getvalue()


def audio_only() -> bytes:
    """A Matroska file with one PCM audio stream and no video."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as c:
        s = c.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        for p in [*s.encode(frame), *s.encode()]:
            c.mux(p)
    return out.getvalue()


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(bytes(1600))
    return out.getvalue()


def data_url(data: bytes, mime: str = "video/mp4") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_url(frame: np.ndarray) -> str:
    png = encoded(Image.fromarray(frame), "PNG")
    return f"data:image/png;base64,{base64.b64encode(png).decode()}"


def video_part(url: str) -> dict:
    return {"type": "video_url", "video_url": {"url": url}}


def image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    """Encoded test videos by name (the media server serves them at /img/NAME). Three seconds at
    10 fps unless named otherwise: at --video-fps 1 the frames 0, 10 and 20."""
    three = frames_of(1, 30)
    return {
        "three.mkv": lossless(three),
        "three_other.mkv": lossless(frames_of(2, 30)),  # same size and length, other pixels
        "cache.webm": vp9(frames_of(5, 30)),
        "memo.mp4": h264(frames_of(6, 30)),
        "three.mp4": h264(three),
        "three.webm": vp9(three),
        "three.gif": gif(three),
        "ten_s_2fps.mkv": lossless(frames_of(3, 20), fps=2),  # 10 s: the cap binds
        "long.mkv": lossless(frames_of(4, MAX_DURATION + 10), fps=1),
        "audio.mka": audio_only(),
        "sound.wav": wav(),
    }


@pytest.fixture(scope="module")
def media(clips):
    m = MediaServer(clips)
    yield m
    m.close()


@pytest.fixture(scope="module")
def server(sluice_bin, vision_model, media, tmp_path_factory, clips):
    root = tmp_path_factory.mktemp("media_root")
    (root / "three.mp4").write_bytes(clips["three.mp4"])
    with vision_server(sluice_bin, vision_model, "--allowed-media-hosts", f"localhost:{media.port}",
                       "--media-path", str(root), "--media-timeout", "2",
                       "--max-images", str(MAX_IMAGES), "--video-fps", "1",
                       "--video-max-frames", str(MAX_FRAMES),
                       "--video-max-duration", str(MAX_DURATION),
                       "--max-video-bytes", str(MAX_VIDEO_BYTES), "--deterministic") as s:
        s.media_root = root
        yield s


@pytest.fixture(scope="module")
def oai(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0)


def frames_as_images(frames: list[np.ndarray], indices: list[int]) -> list[dict]:
    return [image_part(png_url(frames[i])) for i in indices]


# ---------------------------------------------------------------- 1. the client, every format


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("name,source", [("three.mp4", "base64"), ("three.webm", "url"),
                                         ("three.gif", "base64"), ("three.mp4", "file")])
def test_openai_client_sends_video(server, oai, media, clips, name, source, stream):
    """Three seconds at --video-fps 1: three frames, each an image's placeholders in the prompt
    (as many prompt tokens as the same text with three images)."""
    url = {"base64": lambda: data_url(clips[name]), "url": lambda: media.url(f"/img/{name}"),
           "file": lambda: f"file://{server.media_root}/{name}"}[source]()
    messages = [user("What happens in this video?", video_part(url))]
    as_images = [user("What happens in this video?",
                      *frames_as_images(frames_of(9, 3), [0, 1, 2]))]
    want_prompt = chat(oai, as_images, max_tokens=1).usage.prompt_tokens
    if not stream:
        r = chat(oai, messages, max_tokens=5)
        assert r.choices[0].finish_reason in ("stop", "length")
        assert isinstance(r.choices[0].message.content, str)
        assert r.usage.prompt_tokens == want_prompt
        return
    chunks = list(oai.chat.completions.create(
        model="m", messages=messages, max_tokens=5, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    finish = [c.choices[0].finish_reason for c in chunks
              if c.choices and c.choices[0].finish_reason]
    assert finish and finish[-1] in ("stop", "length"), chunks
    assert chunks[-1].usage.prompt_tokens == want_prompt


# ---------------------------------------------------------------- 2. frames are the images


def test_frames_equal_the_images_they_were_made_from(server, oai, clips):
    """A lossless video sampled at 1 fps is frames 0, 10 and 20: sent as those three PNGs the
    prompt is the same, the greedy answer is the same, and the prefix cache covers it all (the
    frames' content hashes are the images'); frames 1, 11, 21 are not a hit."""
    frames = frames_of(1, 30)
    before = server.metrics()
    by_video = chat(oai, [user("Describe the clip.", video_part(data_url(clips["three.mkv"])))],
                    max_tokens=8)
    as_images = chat(oai, [user("Describe the clip.", *frames_as_images(frames, [0, 10, 20]))],
                     max_tokens=8)
    after = server.metrics()
    assert by_video.usage.prompt_tokens == as_images.usage.prompt_tokens
    assert by_video.choices[0].message.content == as_images.choices[0].message.content
    assert cached(as_images) == full_prompt_hit(as_images.usage.prompt_tokens)
    assert after["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 3
    off_by_one = chat(oai, [user("Describe the clip.", *frames_as_images(frames, [1, 11, 21]))])
    assert cached(off_by_one) < full_prompt_hit(off_by_one.usage.prompt_tokens) - 2 * IMAGE_TOKENS


def test_the_cap_spreads_frames_over_the_duration(server, oai, clips):
    """10 s at 2 fps is 20 frames; at --video-fps 1 it would be 10 moments, over the cap of 4:
    the moments 0, 2.5, 5 and 7.5 s, i.e. frames 0, 5, 10 and 15."""
    frames = frames_of(3, 20)
    by_video = chat(oai, [user("Summarize.", video_part(data_url(clips["ten_s_2fps.mkv"])))])
    as_images = chat(oai, [user("Summarize.", *frames_as_images(frames, [0, 5, 10, 15]))])
    assert by_video.usage.prompt_tokens == as_images.usage.prompt_tokens
    assert cached(as_images) == full_prompt_hit(as_images.usage.prompt_tokens)


# ---------------------------------------------------------------- 3. the caches


def test_the_same_video_by_url_then_base64_is_a_hit_and_another_is_not(server, oai, media, clips):
    text = "A fresh question about this very clip, by URL first."
    before = server.metrics()
    first = chat(oai, [user(text, video_part(media.url("/img/cache.webm")))])
    mid = server.metrics()
    again = chat(oai, [user(text, video_part(data_url(clips["cache.webm"], "video/webm")))])
    after = server.metrics()
    assert cached(first) < full_prompt_hit(first.usage.prompt_tokens) - 2 * IMAGE_TOKENS
    assert cached(again) == full_prompt_hit(again.usage.prompt_tokens)
    assert after["sluice_images_encoded_total"] == mid["sluice_images_encoded_total"]
    assert mid["sluice_images_encoded_total"] - before["sluice_images_encoded_total"] == 3
    other = chat(oai, [user(text, video_part(data_url(clips["three_other.mkv"])))])
    assert other.usage.prompt_tokens == again.usage.prompt_tokens  # same shape, other pixels
    assert cached(other) < full_prompt_hit(other.usage.prompt_tokens) - 2 * IMAGE_TOKENS
    encoded_other = server.metrics()["sluice_images_encoded_total"]
    assert encoded_other - after["sluice_images_encoded_total"] == 3


def media_counts(server: SluiceServer) -> tuple[float, float]:
    m = server.metrics()
    return (m['sluice_media_decodes_total{kind="video"}'],
            m['sluice_media_memo_hits_total{kind="video"}'])


def test_a_repeated_video_is_not_decoded_again(server, oai, media, clips):
    """The video memo: a data URL sent again is known by its base64 text, a URL by its fetched
    bytes; neither is decoded again, and the repeat is the same full prefix hit."""
    question = "What moves in this memo clip?"
    for part in (video_part(data_url(clips["memo.mp4"])), video_part(media.url("/img/memo.mp4"))):
        decodes, hits = media_counts(server)
        first = chat(oai, [user(question, part)], max_tokens=6)
        assert media_counts(server) == (decodes + 1, hits)
        again = chat(oai, [user(question, part)], max_tokens=6)
        assert media_counts(server) == (decodes + 1, hits + 1)
        assert again.usage.prompt_tokens == first.usage.prompt_tokens
        assert again.choices[0].message.content == first.choices[0].message.content
        assert cached(again) == full_prompt_hit(again.usage.prompt_tokens)
        question += " And by URL?"


def test_a_remembered_video_is_decoded_again_when_no_cache_holds_its_frames(
        sluice_bin, vision_model, clips):
    """Without the prefix and encoder caches a repeat must run the encoder: the memo spares
    the first decode only, the frames are decoded again (once) and the answer is the same."""
    with vision_server(sluice_bin, vision_model, "--video-fps", "1", "--video-max-frames",
                       str(MAX_FRAMES), "--max-images", str(MAX_IMAGES), "--no-prefix-cache",
                       "--encoder-cache-memory", "0", "--deterministic") as s:
        client = openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0)
        messages = [user("Describe it.", video_part(data_url(clips["memo.mp4"])))]
        first = chat(client, messages, max_tokens=8)
        again = chat(client, messages, max_tokens=8)
        m = s.metrics()
        assert media_counts(s) == (1, 1)
        assert m["sluice_images_encoded_total"] == 6  # three frames, encoded both times
        assert again.choices[0].message.content == first.choices[0].message.content


# ---------------------------------------------------------------- 4. bad input


def bad_cases(clips, media) -> dict[str, tuple[list[dict], str]]:
    mp4 = clips["three.mp4"]
    scrambled = bytearray(mp4)
    at = scrambled.index(b"mdat") + 100
    scrambled[at:at + 2048] = bytes(range(256)) * 8  # the first frames' H.264 data
    ok = video_part(data_url(clips["three.mkv"]))
    return {
        "corrupt": ([video_part(data_url(bytes(scrambled)))], "corrupt or truncated video"),
        "truncated": ([video_part(data_url(mp4[: len(mp4) // 2]))], "corrupt or truncated video"),
        "not_a_video": ([video_part(data_url(b"just some text, no video at all" * 10))],
                        "not a video"),
        "unsupported_container": ([video_part(data_url(clips["sound.wav"]))],
                                  "unsupported container 'wav'"),
        "no_video_stream": ([video_part(media.url("/img/audio.mka"))], "no video stream"),
        "too_long": ([video_part(data_url(clips["long.mkv"]))],
                     f"lasts {MAX_DURATION + 10}.0 s, over the limit of {MAX_DURATION}.0 s"),
        # 3 + 4 frames: over once the second video is decoded; a third is refused unread.
        "too_many_frames": ([ok, video_part(data_url(clips["ten_s_2fps.mkv"]))],
                            f"the request has 7 images (a video's frames count as images); "
                            f"this server takes at most {MAX_IMAGES}"),
        "too_many_videos": ([ok, ok, ok], f"at most {MAX_IMAGES}"),
        "too_large": ([video_part(data_url(bytes(MAX_VIDEO_BYTES + 1)))],
                      f"over the {MAX_VIDEO_BYTES}-byte limit"),
        "http_404": ([video_part(media.url("/img/nothing.mp4"))], "HTTP 404"),
        "loopback": ([video_part(media.url("/img/three.mp4", host="127.0.0.1"))], "loopback"),
        "file_outside_media_path": ([video_part("file:///etc/hostname")], "--media-path"),
        "no_url": ([{"type": "video_url", "video_url": {}}], "video_url must carry a url"),
    }


BAD = ["corrupt", "truncated", "not_a_video", "unsupported_container", "no_video_stream",
       "too_long", "too_many_frames", "too_many_videos", "too_large", "http_404", "loopback",
       "file_outside_media_path", "no_url"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("case", BAD)
def test_bad_videos_are_400s(server, oai, media, clips, case, stream):
    parts, fragment = bad_cases(clips, media)[case]
    before = server.metrics()
    with pytest.raises(openai.APIStatusError) as e:
        r = oai.chat.completions.create(model="m", max_tokens=2, stream=stream,
                                        messages=[user("Watch:", *parts)])
        if stream:
            list(r)
    check_error_shape("openai", e.value.status_code, e.value.response.json(), fragment)
    m = wait_idle(server)
    assert m["sluice_kv_cache_blocks_used"] == 0
    assert m["sluice_images_encoded_total"] == before["sluice_images_encoded_total"]
    assert server.alive()


def test_the_server_still_serves_video_after_the_bad_ones(oai, clips):
    r = chat(oai, [user("Still there?", video_part(data_url(clips["three.gif"], "image/gif")))])
    assert r.usage.completion_tokens >= 1


def test_video_to_a_model_without_a_tower_is_a_400(sluice_bin, smollm2_path, clips):
    with SluiceServer(sluice_bin, "-m", smollm2_path, "--threads", "1") as s:
        status, body = s.post("/v1/chat/completions", {"model": "m", "max_tokens": 2, "messages": [
            user("Watch:", video_part(data_url(clips["three.mp4"])))]})
        check_error_shape("openai", status, body, "takes no images or video")
        assert s.alive()
