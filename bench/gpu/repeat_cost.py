"""What a repeated picture costs on a cache hit: TTFT of the same image request sent again
against that of a text request of about the same prompt length sent again (both full prefix
hits), so the difference is the picture's bytes (JSON, base64, hash) and its prompt work; and
the text request carrying as many bytes in an unused field (`user`): the body's transfer and
parse alone.
Usage: repeat_cost.py URL [--size PX] [--repeats N]"""
import argparse
import base64
import statistics

from vision_requests import ask, png


def repeated(url: str, msgs: list, repeats: int, **extra) -> str:
    runs = [ask(url, msgs, max_tokens=2, **extra) for _ in range(repeats)]
    ts = [r["ttft_ms"] for r in runs]
    cached = runs[-1]["usage"]["prompt_tokens_details"]["cached_tokens"]
    return f"median {statistics.median(ts):.1f} ms, min {min(ts):.1f} ms ({cached} tokens cached)"


def main() -> None:
    a = argparse.ArgumentParser()
    a.add_argument("url")
    a.add_argument("--size", type=int, default=640)
    a.add_argument("--repeats", type=int, default=8)
    args = a.parse_args()
    url = "data:image/png;base64," + base64.b64encode(png(7, args.size)).decode()
    image = [{"role": "user", "content": [{"type": "text", "text": "Describe this."},
                                          {"type": "image_url", "image_url": {"url": url}}]}]
    first = ask(args.url, image, max_tokens=2)
    n = first["usage"]["prompt_tokens"]
    words = [{"role": "user", "content": "word " * max(1, n - 12)}]
    texts = ask(args.url, words, max_tokens=2)
    print(f"data URL {len(url)} bytes; image prompt {n} tokens, text prompt "
          f"{texts['usage']['prompt_tokens']} tokens; first image {first['ttft_ms']:.1f} ms")
    print("image repeated:", repeated(args.url, image, args.repeats))
    print("text repeated:", repeated(args.url, words, args.repeats))
    print("text + as many bytes repeated:", repeated(args.url, words, args.repeats, user="x" * len(url)))


if __name__ == "__main__":
    main()
