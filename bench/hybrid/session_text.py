"""The text of a deterministic coding-agent session, rendered as ChatML by the bench itself.

- system: an agent preamble, tool definitions (JSON schemas inside <tools></tools>, the layout of
  Qwen's chat template), then numbered guidelines, about `system_tokens` tokens in all;
- user/tool messages: turn 0 a task statement, later turns a <tool_response> (a source listing,
  a test log or search hits), about `tool_tokens` tokens each.

All text is made of real words and code-like lines chosen by a seeded generator (no random token
ids), so every run and every server gets the same strings. Lengths are counted with the model's
own tokenizer through `sluice tokenize --jsonl --parse-special` (one process for all pieces), so
the bench needs no Python tokenizer (the GPU machine has none for GGUF files).
"""
from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

OBJECTS = ["file", "directory", "issue", "pull_request", "branch", "commit", "test_suite", "build_target",
           "package", "container", "database_table", "log_stream", "metric", "secret", "workflow",
           "notebook", "symbol", "dependency", "release", "benchmark"]
VERBS = ["list", "get", "create", "update", "delete", "search", "watch", "compare"]
NOUNS = ["scheduler", "allocator", "tokenizer", "request", "session", "cache", "block", "batch", "kernel",
         "sampler", "router", "config", "worker", "snapshot", "prefix", "stream", "queue", "engine"]
ADJ = ["pending", "cached", "active", "stale", "partial", "shared", "local", "remote", "frozen", "dirty"]
SENTENCES = [
    "The result is returned as plain text, truncated to the configured output limit.",
    "Paths are relative to the repository root unless they start with a slash.",
    "Use this before editing so that the change applies to the current contents.",
    "Fails with an error message when the target does not exist or is not readable.",
    "Large outputs are paginated; pass the cursor from the previous call to continue.",
    "The operation is idempotent and can be retried safely after a timeout.",
    "Only the fields given are changed; the others keep their current values.",
    "Results are sorted by relevance, then by the time of the last modification.",
    "The call waits until the operation finishes or the timeout expires.",
    "Sensitive values are redacted in the output and never written to the log.",
]
GUIDELINES = [
    "Read the relevant files before proposing a change, and quote the lines you rely on.",
    "Keep each change small and focused on the task; do not reformat unrelated code.",
    "Run the narrowest test that covers the change first, then the wider suite.",
    "When a command fails, read its output carefully before trying something else.",
    "Prefer the project's existing helpers over new ones, and follow its naming style.",
    "Never commit secrets, credentials or generated build outputs to the repository.",
    "Explain what you changed and why in one or two sentences after each step.",
    "If the task is ambiguous, state your assumption and continue with the simplest reading.",
    "Use the search tool to find callers before changing a function's signature.",
    "Report test results with the exact command and the number of passing and failing tests.",
]


def _tool(rng: random.Random, verb: str, obj: str) -> dict:
    props = {"path": {"type": "string", "description": f"Location of the {obj.replace('_', ' ')}. "
                      + rng.choice(SENTENCES)},
             "limit": {"type": "integer", "description": f"Maximum number of {obj.replace('_', ' ')} entries "
                       "to return (default 50)."},
             "filter": {"type": "object", "description": "Only entries whose fields match these values. "
                        + rng.choice(SENTENCES),
                        "properties": {"state": {"type": "string", "enum": rng.sample(ADJ, 3)},
                                       "owner": {"type": "string"}}}}
    if verb in ("create", "update"):
        props["content"] = {"type": "string", "description": f"The new {obj.replace('_', ' ')} contents. "
                            + rng.choice(SENTENCES)}
    desc = (f"{verb.capitalize()} {obj.replace('_', ' ')} entries in the current workspace. "
            + " ".join(rng.sample(SENTENCES, 2)))
    return {"type": "function", "function": {"name": f"{verb}_{obj}", "description": desc,
                                             "parameters": {"type": "object", "properties": props,
                                                            "required": ["path"]}}}


def _code_line(rng: random.Random, i: int) -> str:
    a, b = rng.sample(NOUNS, 2)
    forms = [f"def {rng.choice(VERBS)}_{a}(self, {b}_id: int, {rng.choice(ADJ)}: bool = False) -> None:",
             f"    {a} = self.{b}s.get({b}_id)",
             f"    if {a} is None or {a}.{rng.choice(ADJ)}:",
             f"        raise KeyError(f\"unknown {b} {{{b}_id}}\")",
             f"    self.{rng.choice(ADJ)}_{a}s.append({a}.{b})",
             f"    return sum(x.{b}_count for x in self.{a}s if x.{rng.choice(ADJ)})",
             f"# {rng.choice(GUIDELINES)}"]
    return f"{i:5d}  {forms[i % len(forms)]}"


def _test_line(rng: random.Random, i: int) -> str:
    a, b = rng.sample(NOUNS, 2)
    verdict = "PASSED" if rng.random() < 0.85 else "FAILED"
    return f"tests/test_{a}.py::test_{rng.choice(VERBS)}_{b}_{rng.choice(ADJ)} {verdict} [{(i * 7) % 100:3d}%]"


def _grep_line(rng: random.Random, i: int) -> str:
    a, b = rng.sample(NOUNS, 2)
    return f"src/{a}/{b}_{rng.choice(ADJ)}.py:{rng.randrange(10, 900)}:    self.{a}.{rng.choice(VERBS)}_{b}()"


LINE_KINDS = [("read_file", _code_line), ("run_tests", _test_line), ("search_code", _grep_line)]


class Counter:
    """Token counts of many texts with one `sluice tokenize` process (special tokens parsed)."""

    def __init__(self, sluice: Path, model: Path):
        self.sluice, self.model = sluice, model

    def counts(self, texts: list[str]) -> list[int]:
        inp = "".join(json.dumps(t) + "\n" for t in texts)
        r = subprocess.run([str(self.sluice), "tokenize", "-m", str(self.model), "--jsonl", "--parse-special"],
                           input=inp, capture_output=True, text=True, check=True)
        return [len(json.loads(l)["ids"]) for l in r.stdout.splitlines()]


def _take(lines: list[str], counts: list[int], budget: int) -> list[str]:
    """The leading lines whose counts (+1 for each newline) fit the budget."""
    out, used = [], 0
    for line, n in zip(lines, counts):
        if used + n + 1 > budget:
            break
        out.append(line)
        used += n + 1
    return out


@dataclass
class Session:
    system: str
    messages: list[str]  # turn t's user message (turn 0: the task; later: a tool response)

    def first_prompt(self) -> str:
        return (f"<|im_start|>system\n{self.system}<|im_end|>\n"
                f"<|im_start|>user\n{self.messages[0]}<|im_end|>\n<|im_start|>assistant\n")

    @staticmethod
    def next_prompt(prev_prompt: str, reply: str, message: str) -> str:
        """The previous prompt, the model's reply to it, then the next user message."""
        return f"{prev_prompt}{reply}<|im_end|>\n<|im_start|>user\n{message}<|im_end|>\n<|im_start|>assistant\n"


def make_session(counter: Counter, turns: int, system_tokens: int, tool_tokens: int, seed: int = 0) -> Session:
    rng = random.Random(seed)
    intro = ("You are a coding agent working in a software repository on behalf of a developer. You read, "
             "search and change code with the tools below, run the tests, and answer briefly.\n\n# Tools\n\n"
             "You may call one or more functions to assist with the user query.\n\n"
             "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
    outro = ("</tools>\n\nFor each function call, return a json object with function name and arguments "
             "within <tool_call></tool_call> XML tags.\n\n# Guidelines\n")
    tools = [json.dumps(_tool(rng, v, o)) for o in OBJECTS for v in VERBS]
    guides = [f"{i + 1}. {rng.choice(GUIDELINES)} {rng.choice(SENTENCES)}" for i in range(400)]
    bodies = []
    for t in range(turns):
        name, fn = LINE_KINDS[t % len(LINE_KINDS)]
        head = (f"Task: the {rng.choice(ADJ)} {rng.choice(NOUNS)} path drops requests under load; find the "
                "cause, fix it and show the tests passing. Start by reading the scheduler.") if t == 0 else \
            f"<tool_response>\n{json.dumps({'name': name, 'call_id': f'call_{t}'})}"
        lines = [fn(rng, i + 1) for i in range(tool_tokens // 4)]
        bodies.append((head, lines, "" if t == 0 else "</tool_response>"))
    pieces = [intro, outro, *tools, *guides] + [x for h, ls, tail in bodies for x in (h, tail, *ls)]
    counts = iter(counter.counts(pieces))
    n_intro, n_outro = next(counts), next(counts)
    tool_counts = [next(counts) for _ in tools]
    guide_counts = [next(counts) for _ in guides]
    # Tool definitions fill about three quarters of the system prompt, guidelines the rest.
    tool_part = _take(tools, tool_counts, int(0.75 * system_tokens) - n_intro - n_outro)
    used = n_intro + n_outro + sum(tool_counts[:len(tool_part)]) + len(tool_part)
    system = intro + "\n" + "\n".join(tool_part) + "\n" + outro + \
        "\n".join(_take(guides, guide_counts, system_tokens - used))
    messages = []
    for head, lines, tail in bodies:
        nh, nt = next(counts), next(counts)
        line_counts = [next(counts) for _ in lines]
        body = _take(lines, line_counts, tool_tokens - nh - nt - 1)
        messages.append("\n".join([head, *body] + ([tail] if tail else [])))
    return Session(system, messages)
