"""`sluice serve --profile NAME`: the profile's flags apply, flags given explicitly win,
`--print-config` shows the result (the API key masked), and an unknown profile is an error."""
from __future__ import annotations

import subprocess

import pytest


def config(sluice_bin, *args) -> dict[str, str]:
    r = subprocess.run([str(sluice_bin), "serve", *args, "--print-config"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition("=")
        out[key] = value.strip('"')
    return out


def test_defaults_include_device_auto(sluice_bin):
    c = config(sluice_bin)
    assert c["device"] == "auto"
    assert c["kv-cache-memory"] == "" and c["profile"] == ""


@pytest.mark.parametrize("profile,expected", [
    ("agent", {"kv-cache-memory": "0.25", "max-num-batched-tokens": "2048",
               "tool-call-parser": "auto", "reasoning-parser": "auto"}),
    ("deterministic", {"deterministic": "true"}),
    ("throughput", {"max-num-seqs": "256", "kv-cache-memory": "0.3"}),
    ("json", {"reasoning-parser": "none", "deterministic": "true"}),
    ("multimodal", {"encoder-cache-memory": "1GiB", "max-images": "32"}),
    ("low-memory", {"kv-cache-memory": "256MiB", "max-num-seqs": "8",
                    "max-loaded-models": "1", "idle-unload": "300"}),
])
def test_each_profile_applies_its_flags(sluice_bin, profile, expected):
    c = config(sluice_bin, "--profile", profile)
    assert c["profile"] == profile
    for k, v in expected.items():
        assert c[k] == v, (profile, k, c[k])


def test_explicit_flags_win_in_either_order(sluice_bin):
    for args in (["--profile", "agent", "--kv-cache-memory", "1GiB"],
                 ["--kv-cache-memory=1GiB", "--profile=agent"]):
        c = config(sluice_bin, *args)
        assert c["kv-cache-memory"] == "1GiB", args
        assert c["max-num-batched-tokens"] == "2048", args


def test_api_key_is_masked(sluice_bin):
    assert config(sluice_bin, "--api-key", "s3cret")["api-key"] == "(set)"


def test_unknown_profile_is_an_error_naming_the_choices(sluice_bin):
    r = subprocess.run([str(sluice_bin), "serve", "--profile", "fast"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "no such profile" in r.stderr and "agent" in r.stderr, r.stderr
