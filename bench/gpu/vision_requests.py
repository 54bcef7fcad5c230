"""Image requests against a running sluice server (the GPU machine has no Pillow): deterministic
RGB pictures as PNG data URLs, greedy chat completions with logprobs, TTFT per request.
Usage: vision_requests.py URL OUT.json [--images N] [--size PX] [--turns]
       vision_requests.py URL OUT.json --throughput N --concurrency C [--size PX]
(throughput: N distinct pictures, C requests at a time, one output token each: images/s)"""
import argparse
import base64
import concurrent.futures as cf
import json
import struct
import time
import urllib.request
import zlib


def png(seed: int, size: int) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            v = (x * 7 + y * 13 + seed * 101) & 0xFF
            row += bytes(((v + seed * 17) & 0xFF, (x * 3 + seed * 29) & 0xFF, (y * 5 + v) & 0xFF))
        rows.append(bytes(row))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + \
        chunk(b"IEND", b"")


def ask(url: str, messages: list, max_tokens: int = 8, **extra) -> dict:
    body = {"model": "m", "max_tokens": max_tokens, "temperature": 0, "logprobs": True, "top_logprobs": 3,
            "stream": True, "stream_options": {"include_usage": True}, "messages": messages, **extra}
    req = urllib.request.Request(url + "/v1/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    ttft, text, lps, usage = None, "", [], None
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            c = json.loads(line[6:])
            if c.get("usage"):
                usage = c["usage"]
            for ch in c.get("choices", []):
                token = ch["delta"].get("content") or (ch.get("logprobs") or {}).get("content")
                if ttft is None and token:  # the first token, not the role chunk
                    ttft = time.perf_counter() - t0
                text += ch["delta"].get("content") or ""
                for t in (ch.get("logprobs") or {}).get("content") or []:
                    lps.append(t["logprob"])
    return {"ttft_ms": None if ttft is None else 1000 * ttft, "text": text, "logprobs": lps,
            "usage": usage}


def main() -> None:
    a = argparse.ArgumentParser()
    a.add_argument("url")
    a.add_argument("out")
    a.add_argument("--images", type=int, default=3)
    a.add_argument("--size", type=int, default=320)
    a.add_argument("--repeats", type=int, default=3)
    a.add_argument("--turns", action="store_true", help="also the same conversation plus one turn")
    a.add_argument("--system-words", type=int, default=0, help="a system prompt of N words first")
    a.add_argument("--throughput", type=int, default=0, help="N distinct pictures, first time each")
    a.add_argument("--concurrency", type=int, default=8)
    o = a.parse_args()
    if o.throughput:
        return throughput(o)
    results = []
    for i in range(o.images):
        data = "data:image/png;base64," + base64.b64encode(png(i, o.size)).decode()
        msgs = [{"role": "user", "content": [{"type": "text", "text": f"Describe picture {i}."},
                                             {"type": "image_url", "image_url": {"url": data}}]}]
        if o.system_words:  # a long conversation before the picture (shared by every image)
            words = " ".join(f"word{j % 97}" for j in range(o.system_words))
            msgs.insert(0, {"role": "system", "content": words})
        for rep in range(o.repeats):  # the first is cold, the rest hit the caches
            results.append({"image": i, "repeat": rep, **ask(o.url, msgs)})
        if o.turns:
            first = results[-1]["text"]
            more = msgs + [{"role": "assistant", "content": first},
                           {"role": "user", "content": "And what colour dominates?"}]
            results.append({"image": i, "repeat": "turn", **ask(o.url, more)})
    json.dump(results, open(o.out, "w"), indent=1)
    for r in results:
        print(f"image {r['image']} {r['repeat']}: ttft {r['ttft_ms'] or float('nan'):.1f} ms, cached "
              f"{((r['usage'] or {}).get('prompt_tokens_details') or {}).get('cached_tokens')}/"
              f"{(r['usage'] or {}).get('prompt_tokens')}, "
              f"{r['text'][:24]!r}")


def throughput(o) -> None:
    """Images/s of first-time pictures (encoder + prefill + one token), C requests in flight."""
    base = 1000 + 1000 * o.concurrency  # pictures no earlier run on this server sent
    urls = ["data:image/png;base64," + base64.b64encode(png(base + i, o.size)).decode()
            for i in range(o.throughput)]
    ask(o.url, [{"role": "user", "content": [{"type": "text", "text": "warm up"}]}], 1)

    def one(i: int) -> dict:
        msgs = [{"role": "user", "content": [{"type": "text", "text": f"Describe picture {i}."},
                                             {"type": "image_url", "image_url": {"url": urls[i]}}]}]
        return ask(o.url, msgs, 1)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(o.concurrency) as pool:
        done = list(pool.map(one, range(o.throughput)))
    wall = time.perf_counter() - t0
    ttfts = sorted(r["ttft_ms"] for r in done if r["ttft_ms"] is not None)
    res = {"images": o.throughput, "concurrency": o.concurrency, "size": o.size, "wall_s": wall,
           "images_per_s": o.throughput / wall, "answered": len(ttfts),
           "ttft_p50_ms": ttfts[len(ttfts) // 2] if ttfts else None,
           "ttft_max_ms": ttfts[-1] if ttfts else None}
    json.dump(res, open(o.out, "w"), indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
