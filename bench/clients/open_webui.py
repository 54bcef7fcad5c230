"""Open WebUI (PyPI open-webui) in front of `sluice serve`: its OpenAI connection points at sluice
and its own chat API is driven over HTTP. Not part of ./scripts/test: the install is about 7 GB
(PyTorch, CUDA wheels) and 10 minutes. docs/CLIENTS.md records a run.

    python3 bench/clients/open_webui.py [--venv /tmp/open-webui-venv] [--sluice build/release/sluice]

Makes the venv with open-webui when it lacks one, starts sluice on the default model and Open WebUI
(no auth, a temporary DATA_DIR, offline), then checks: the model list, /api/chat/completions
(plain, streamed, with a system prompt), the /openai/chat/completions proxy and the title task.
Prints one line per check and exits 1 when one failed.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from server_util import SluiceServer  # noqa: E402

OPEN_WEBUI = "open-webui==0.12.4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_venv(venv: Path) -> Path:
    binary = venv / "bin" / "open-webui"
    if not binary.exists():
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", OPEN_WEBUI], check=True)
        print(f"installed {OPEN_WEBUI} in {time.monotonic() - start:.0f} s")
    return binary


class Client:
    def __init__(self, base: str):
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body=None, raw: bool = False):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=600) as r:
            data = r.read().decode()
        return data if raw else json.loads(data)


def streamed_text(sse: str) -> str:
    out = []
    for line in sse.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices", []):
                out.append(choice.get("delta", {}).get("content") or "")
    return "".join(out)


def checks(owui: Client, model: str):
    """(name, passed, detail) for each check, in order."""
    owui.token = owui.call("POST", "/api/v1/auths/signin", {"email": "", "password": ""})["token"]
    ids = [m["id"] for m in owui.call("GET", "/api/models")["data"]]
    yield "GET /api/models lists sluice's model", model in ids, ids
    ask = {"model": model, "max_tokens": 32, "temperature": 0,
           "messages": [{"role": "user", "content": "Name three colors."}]}
    plain = owui.call("POST", "/api/chat/completions", {**ask, "stream": False})
    text = plain["choices"][0]["message"]["content"]
    yield "POST /api/chat/completions", bool(text.strip()), text
    sse = owui.call("POST", "/api/chat/completions", {**ask, "stream": True}, raw=True)
    yield "POST /api/chat/completions stream", streamed_text(sse) == text, streamed_text(sse)
    system = {**ask, "stream": False, "messages": [
        {"role": "system", "content": "You are a pirate. Answer briefly."},
        {"role": "user", "content": "Who are you?"}]}
    reply = owui.call("POST", "/api/chat/completions", system)["choices"][0]["message"]["content"]
    yield "POST /api/chat/completions with a system prompt", bool(reply.strip()), reply
    proxied = owui.call("POST", "/openai/chat/completions", ask)["choices"][0]["message"]["content"]
    yield "POST /openai/chat/completions (proxy)", proxied == text, proxied
    title = owui.call("POST", "/api/v1/tasks/title/completions", {
        "model": model, "messages": [
            {"role": "user", "content": "How do I bake bread at home?"},
            {"role": "assistant", "content": "Mix flour, water, yeast and salt, knead, let it "
                                             "rise, and bake at 230 C."}]})
    content = title["choices"][0]["message"]["content"]
    yield "POST /api/v1/tasks/title/completions", bool(content.strip()), content[:200]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", type=Path, default=Path("/tmp/open-webui-venv"))
    ap.add_argument("--sluice", type=Path, default=REPO / "build" / "release" / "sluice")
    args = ap.parse_args()
    binary = ensure_venv(args.venv)
    version = subprocess.run([str(args.venv / "bin" / "pip"), "show", "open-webui"],
                             capture_output=True, text=True).stdout.split("Version: ")[1].split()[0]
    failed = 0
    with SluiceServer(args.sluice) as s, tempfile.TemporaryDirectory() as data:
        with urllib.request.urlopen(s.base_url + "/v1/models", timeout=10) as r:
            model = json.loads(r.read())["data"][0]["id"]
        port = free_port()
        env = {**os.environ, "DATA_DIR": data, "WEBUI_AUTH": "False", "PORT": str(port),
               "ENABLE_OLLAMA_API": "False", "OPENAI_API_BASE_URLS": s.base_url + "/v1",
               "OPENAI_API_KEYS": "sk-local", "OFFLINE_MODE": "True", "HF_HUB_OFFLINE": "1",
               "USE_SLIM_DOCKER": "true",  # no local embedding model (it would be downloaded)
               "ENABLE_VERSION_UPDATE_CHECK": "False", "DO_NOT_TRACK": "True",
               "ANONYMIZED_TELEMETRY": "False"}
        log = open(Path(data) / "open-webui.log", "w")
        proc = subprocess.Popen([str(binary), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data)
        try:
            owui = Client(f"http://127.0.0.1:{port}")
            start = time.monotonic()
            while True:
                try:
                    owui.call("GET", "/health")
                    break
                except (urllib.error.URLError, ConnectionError):
                    if proc.poll() is not None or time.monotonic() - start > 300:
                        log.flush()
                        print((Path(data) / "open-webui.log").read_text()[-4000:])
                        return 1
                    time.sleep(1)
            print(f"open-webui {version} up in {time.monotonic() - start:.0f} s, sluice model {model}")
            for name, ok, detail in checks(owui, model):
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name}: {json.dumps(detail)[:160]}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        served = {k: v for k, v in s.requests_total().items() if k[0] != "/health"}
        print("sluice saw:", ", ".join(f"{route} {status}: {n:.0f}"
                                       for (route, status), n in sorted(served.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
