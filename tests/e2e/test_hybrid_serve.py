"""A hybrid model (Qwen3.5 shape: gated delta-net layers with a recurrent state) behind the HTTP
API, as an agent uses it: each turn re-sends the conversation plus a tool result. From the second
turn on, the previous prompt is reused (KV blocks and the recurrent-state snapshot at the end of
its last full block: usage.prompt_tokens_details.cached_tokens) and the replies are exactly a cold
server's (--deterministic)."""
from __future__ import annotations

import openai
import pytest

from server_util import SluiceServer

TOOL_RESULT = ("The file src/main.cc has 120 lines. Line 42 calls parse_args(argc, argv) and "
               "line 57 returns the exit status of run(options). ")


def _turns(client: openai.OpenAI, n: int) -> list[tuple[str, int, int]]:
    """Greedy completions of a growing conversation: (reply, prompt tokens, cached tokens)."""
    prompt = "<|im_start|>system\nYou are a coding agent. Tools: read_file, run.<|im_end|>\n" * 6
    out = []
    for turn in range(n):
        prompt += f"<|im_start|>user\n{TOOL_RESULT * (turn + 2)}<|im_end|>\n<|im_start|>assistant\n"
        r = client.completions.create(model="m", prompt=prompt, max_tokens=8, temperature=0,
                                      extra_body={"ignore_eos": True})
        out.append((r.choices[0].text, r.usage.prompt_tokens,
                    r.usage.prompt_tokens_details.cached_tokens))
        prompt += r.choices[0].text + "<|im_end|>\n"
    return out


@pytest.mark.parametrize("arch", ["qwen35", "qwen35moe"])
def test_agent_turns_reuse_the_state_and_match_a_cold_server(arch, make_model, sluice_bin):
    model = make_model(arch, "gguf-q8_0")
    with SluiceServer(sluice_bin, "-m", model, "--deterministic", "--threads", "2") as warm:
        hot = _turns(openai.OpenAI(base_url=warm.base_url + "/v1", api_key="x"), 3)
    with SluiceServer(sluice_bin, "-m", model, "--deterministic", "--threads", "2",
                      "--no-prefix-cache") as cold_server:
        cold = _turns(openai.OpenAI(base_url=cold_server.base_url + "/v1", api_key="x"), 3)
    assert [t[0] for t in hot] == [t[0] for t in cold]
    assert hot[0][2] == 0 and all(t[2] == 0 for t in cold)
    for (_, prev_prompt, _), (_, prompt, cached) in zip(hot, hot[1:]):
        # The previous prompt's full blocks (16 tokens) are reused, never the new text.
        assert cached == prev_prompt // 16 * 16, (cached, prev_prompt, prompt)
