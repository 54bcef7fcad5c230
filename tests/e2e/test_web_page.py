"""The built-in chat page (`GET /`, src/api/web/): its files over plain HTTP, the API-key rules,
and real chats in headless Chromium through Selenium (Debian's chromium and chromium-driver).

The browser tests save a screenshot of the page after a streamed reply to their tmp_path and to
build/test-output/web_page.png."""
from __future__ import annotations

import json
import re
import shutil
from contextlib import contextmanager
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from e2e_util import REPO, THREADS
from server_util import SluiceServer

WEB_DIR = REPO / "src" / "api" / "web"
KEY = "page-test-key"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


@pytest.fixture(scope="module")
def model(smollm2_path) -> Path:
    """models/default.gguf (SmolLM2-135M-Instruct), else the same file from its PyPI package."""
    default = REPO / "models" / "default.gguf"
    return default if default.exists() else smollm2_path


@contextmanager
def serve(sluice_bin, model, *args):
    """SluiceServer on the model; a failure inside also tells how the server fared."""
    with SluiceServer(sluice_bin, "-m", str(model), "--threads", str(THREADS), *args) as s:
        try:
            yield s
        except Exception as e:
            raise AssertionError(f"{e}\nserver exit status: {s.proc.poll()}; its last stderr "
                                 f"lines:\n{''.join(s.stderr_lines[-40:])}") from e


def get(url: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body bytes), without raising on HTTP errors."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ---------------------------------------------------------------- plain HTTP


def test_page_files_and_the_api_key(sluice_bin, model):
    with serve(sluice_bin, model, "--api-key", KEY) as s:
        status, headers, body = get(s.base_url + "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html"), (status, body)
        assert body == (WEB_DIR / "index.html").read_bytes(), "the binary embeds a stale index.html"
        assert headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in headers["Content-Security-Policy"]

        # Every file the page names is served, byte for byte, with its type and without a key.
        named = re.findall(rb'(?:src|href)="([\w.-]+\.(?:js|css))"', body)
        assert {n.decode() for n in named} == {p.name for p in WEB_DIR.iterdir()
                                               if p.suffix in (".js", ".css")}
        for name in named:
            path = WEB_DIR / name.decode()
            status, headers, data = get(f"{s.base_url}/{path.name}")
            assert status == 200, (path.name, data)
            assert headers["Content-Type"].startswith(CONTENT_TYPES[path.suffix]), headers
            assert headers["Cache-Control"] == "no-cache"
            assert data == path.read_bytes(), f"the binary embeds a stale {path.name}"

        # Only GET of the page's own paths is open; the API still needs the key.
        status, _, body = get(s.base_url + "/v1/models")
        assert status == 401 and json.loads(body)["error"]["message"], body
        status, _, body = get(s.base_url + "/v1/models", {"Authorization": f"Bearer {KEY}"})
        assert status == 200 and json.loads(body)["data"][0]["id"], body
        for path in ["/appxjs", "/app.jsx", "/index.html", "/v1/app.js"]:
            assert get(s.base_url + path)[0] == 401, path
        assert get(s.base_url + "/", method="POST")[0] == 401
        status, _, body = get(s.base_url + "/", {"Authorization": f"Bearer {KEY}"}, method="POST")
        assert status in (404, 405), (status, body)


# ---------------------------------------------------------------- the browser


@pytest.fixture
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("the browser tests need Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,800", "--force-prefers-reduced-motion"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver is named, so Selenium Manager never looks for (or downloads) another.
    drv = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield drv
    drv.quit()


def wait(drv, seconds, condition, what):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, seconds).until(condition, f"waited {seconds} s for {what}")


def css(drv, selector):
    from selenium.webdriver.common.by import By

    return drv.find_element(By.CSS_SELECTOR, selector)


def pick_model(drv, model_id: str) -> None:
    from selenium.webdriver.support.ui import Select

    wait(drv, 60, lambda d: Select(css(d, "#model")).options, "the model list")
    Select(css(drv, "#model")).select_by_value(model_id)


def set_max_tokens(drv, n: int) -> None:
    css(drv, "#settings summary").click()  # open
    field = css(drv, "#max-tokens")
    field.clear()
    field.send_keys(str(n))
    css(drv, "#settings summary").click()  # and fold again


def chat(drv, text: str, turn: int, seconds: float = 300):
    """Sends text; returns the assistant reply element of this turn (1-based) once it ended."""
    css(drv, "#input").send_keys(text)
    css(drv, "#send").click()
    selector = f"article.assistant:nth-of-type({2 * turn})"
    wait(drv, seconds, lambda d: css(d, selector).get_attribute("data-state") != "streaming",
         f"reply {turn} to end")
    return css(drv, selector)


def console_errors(drv) -> list[str]:
    """Script errors and refused loads (CSP); not the 4xx answers the tests ask for."""
    return [e["message"] for e in drv.get_log("browser")
            if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]


def assert_png(path: Path) -> None:
    from PIL import Image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert len(data) > 10_000, f"{path}: {len(data)} bytes, too small for a page with a chat"
    with Image.open(path) as img:
        assert img.width >= 800 and img.height >= 600, img.size
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) > 50, "the screenshot is nearly one colour"


def model_id(base_url: str, headers: dict | None = None) -> str:
    return json.loads(get(base_url + "/v1/models", headers)[2])["data"][0]["id"]


def test_chat_in_the_browser(sluice_bin, model, browser, tmp_path, record):
    with serve(sluice_bin, model) as s:
        browser.get(s.base_url + "/")
        pick_model(browser, model_id(s.base_url))
        set_max_tokens(browser, 48)

        reply = chat(browser, "Write one sentence about the sea.", turn=1)
        assert reply.get_attribute("data-state") == "done", reply.text
        first = css(reply, ".content").text.strip()
        assert first, "the reply is empty"
        stats = css(reply, ".stats").text
        m = re.search(r"(\d+) tokens · ([\d.]+) tokens/s", stats)
        assert m and int(m.group(1)) > 0 and float(m.group(2)) > 0, stats
        record(f"web page: reply 1 '{stats}'")

        # The page sends the whole conversation again: the second prompt holds the first turn.
        prompt_tokens = s.metrics()["sluice_prompt_tokens_total"]
        reply = chat(browser, "Now say it in French.", turn=2)
        assert reply.get_attribute("data-state") == "done", reply.text
        assert css(reply, ".content").text.strip()
        second_prompt = s.metrics()["sluice_prompt_tokens_total"] - prompt_tokens
        assert second_prompt > int(m.group(1)) + 10, (second_prompt, m.group(1))

        shot = tmp_path / "web_page.png"
        assert browser.save_screenshot(str(shot))
        assert_png(shot)
        out = REPO / "build" / "test-output"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out / "web_page.png")
        record(f"web page: screenshot {out / 'web_page.png'}")

        # An image sent to a text-only model: the server's 400 message is shown, and the turn
        # leaves the conversation.
        css(browser, "#image-input").send_keys(str(shot))
        wait(browser, 10, lambda d: d.find_elements("css selector", "#attachments img"),
             "the attachment preview")
        reply = chat(browser, "What is in this picture?", turn=3)
        assert reply.get_attribute("data-state") == "error"
        assert "takes no images" in css(reply, ".error").text, reply.text
        assert "failed" in css(browser, "article.user:nth-of-type(5)").get_attribute("class")

        # Stop: a long reply is cut once it started, and the next turn still works. The model
        # samples, so a reply may end on its own before the click lands: then another turn.
        set_max_tokens(browser, 2000)
        turn = 4
        for _ in range(5):
            css(browser, "#input").send_keys("Tell a very long story about a lighthouse.")
            css(browser, "#send").click()
            reply = f"article.assistant:nth-of-type({2 * turn})"
            wait(browser, 120, lambda d: css(d, f"{reply} .content").text, "the first tokens")
            # A script click: the button hides once the reply ends, which may be now.
            browser.execute_script("arguments[0].click()", css(browser, "#stop"))
            wait(browser, 30, lambda d: css(d, reply).get_attribute("data-state") != "streaming",
                 "the stop")
            if css(browser, reply).get_attribute("data-state") == "stopped":
                break
            assert css(browser, reply).get_attribute("data-state") == "done"
            turn += 1
        else:
            pytest.fail("five replies ended on their own before the stop reached them")
        set_max_tokens(browser, 16)
        assert chat(browser, "Thanks!", turn=turn + 1).get_attribute("data-state") == "done"
        assert not console_errors(browser)


def test_markdown_is_rendered_and_escaped(sluice_bin, model, browser):
    with serve(sluice_bin, model) as s:
        browser.get(s.base_url + "/")
        render = lambda text: browser.execute_script("return renderMarkdown(arguments[0])", text)
        assert render("# Title\n\nSome **bold** and *it* and `a<b>`.") == (
            "<h1>Title</h1>\n<p>Some <strong>bold</strong> and <em>it</em> and "
            "<code>a&lt;b&gt;</code>.</p>")
        assert render("- a\n  - b\n- c\n\n1. x\n2. y") == (
            "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul><ol><li>x</li><li>y</li></ol>")
        assert render("```py\nif a < b:\n    print('**')\n```") == (
            '<pre><code class="language-py">if a &lt; b:\n    print(&#39;**&#39;)</code></pre>')
        assert render("snake_case_name and 2 * 3 * 4") == "<p>snake_case_name and 2 * 3 * 4</p>"
        # Model output never becomes markup: no tag or attribute survives unescaped.
        for evil in ["<img src=x onerror=alert(1)>", "**<script>alert(1)</script>**",
                     '```"><svg onload=alert(1)>\nx\n```', "# <b onclick=x>hi</b>",
                     "- [x](javascript:alert(1)) <a href='javascript:1'>"]:
            html = render(evil)
            assert "<img" not in html and "<script" not in html and "<svg" not in html
            assert "<b " not in html and "<a " not in html, html
        # A code fence still streaming (no closing fence yet) renders as code.
        assert render("Look:\n```\nx = 1") == "<p>Look:</p>\n<pre><code>x = 1</code></pre>"

        # Reasoning goes into a folded box, as text; the reply into the rendered part.
        shown = browser.execute_script("""
            const view = replyView();
            render(view, {content: "**hi**", reasoning: "<b>thinking</b>"});
            return [view.reasoning.hidden, view.reasoning.open, view.reasoningText.innerHTML,
                    view.content.innerHTML];""")
        assert shown == [False, False, "&lt;b&gt;thinking&lt;/b&gt;", "<p><strong>hi</strong></p>"]


def test_the_page_asks_for_the_api_key(sluice_bin, model, browser):
    with serve(sluice_bin, model, "--api-key", KEY) as s:
        browser.get(s.base_url + "/")
        wait(browser, 30, lambda d: css(d, "#key-dialog").is_displayed(), "the API key prompt")
        css(browser, "#key-input").send_keys("wrong-key")
        css(browser, "#key-form button[type=submit]").click()
        wait(browser, 30, lambda d: css(d, "#key-error").text, "the refusal of a wrong key")
        field = css(browser, "#key-input")
        field.clear()
        field.send_keys(KEY)
        css(browser, "#key-form button[type=submit]").click()
        pick_model(browser, model_id(s.base_url, {"Authorization": f"Bearer {KEY}"}))
        assert not css(browser, "#key-dialog").is_displayed()
        assert browser.execute_script("return localStorage.getItem('sluice.apiKey')") == KEY

        set_max_tokens(browser, 24)
        reply = chat(browser, "Hello!", turn=1)
        assert reply.get_attribute("data-state") == "done", reply.text
        assert css(reply, ".content").text.strip()
        assert "tokens/s" in css(reply, ".stats").text

        # The key is kept: a reload goes straight to the models.
        browser.refresh()
        pick_model(browser, model_id(s.base_url, {"Authorization": f"Bearer {KEY}"}))
        assert not css(browser, "#key-dialog").is_displayed()
