"""Prompts for the three workloads, made with the model's own tokenizer (the GGUF vocabulary,
through llama-cpp-python's vocab-only loader), so lengths are exact in that tokenizer's count.

(a) fixed: random-word prompts of exactly N tokens (BOS included where the vocabulary adds one),
    M generated tokens (end-of-generation suppressed), /v1/completions;
(b) agent: a long shared system prompt (instructions + tool definitions as text), several sessions
    whose conversations grow turn by turn (each turn resends the whole history + a new user
    message), interleaved round-robin, /v1/chat/completions;
(c) sweep: shape (a) at concurrency 1, 4, 16, 64.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ("river stone light garden window paper music silver forest engine market candle winter harbor signal "
         "orange copper valley thunder pocket ladder meadow lantern anchor table mirror planet rocket bridge "
         "castle desert island jungle kettle lemon marble needle ocean pencil quartz ribbon saddle tunnel "
         "umbrella violin wagon yellow zebra basket cactus dragon feather glacier hammer igloo jacket kingdom "
         "library magnet notebook orchard parrot quilt rabbit sunset tiger unicorn village walnut").split()


class Vocab:
    """The GGUF's tokenizer (llama.cpp's implementation, vocab only: no weights loaded)."""

    def __init__(self, gguf: Path):
        import llama_cpp
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        vocab = self.llm._model.vocab
        self.n_vocab = self.llm.n_vocab()
        self.eog_ids = [t for t in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)]

    def blank_ids(self) -> list[int]:
        """Tokens whose text is only whitespace (or nothing). A random-weight model's chat reply
        can be newlines alone, which llama-server's chat stream holds back (it trims leading
        whitespace): the chat workload bans these tokens on every server alike."""
        if not hasattr(self, "_blank"):
            self._blank = [t for t in range(self.n_vocab)
                           if t not in self.eog_ids and not self.llm.detokenize([t]).strip()]
        return self._blank

    def count(self, text: str, add_bos: bool = True) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=add_bos, special=False))


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def text_of_tokens(vocab: Vocab, rng: random.Random, n_tokens: int, prefix: str = "", add_bos: bool = True) -> str:
    """prefix + random words, as many as keep the count (BOS included) at most n_tokens, closest to it."""
    lo, hi = 0, n_tokens * 2
    body = words(rng, hi)
    parts = body.split(" ")
    while lo < hi:  # largest word count whose text fits
        mid = (lo + hi + 1) // 2
        if vocab.count(prefix + " ".join(parts[:mid]), add_bos) <= n_tokens:
            lo = mid
        else:
            hi = mid - 1
    return prefix + " ".join(parts[:lo])


def fixed_prompts(vocab: Vocab, seed: int, n: int, n_tokens: int) -> list[str]:
    """n different prompts of n_tokens tokens each; a distinct leading number keeps any two from
    sharing even their first KV block, so no prefix cache can serve them."""
    rng = random.Random(seed)
    return [text_of_tokens(vocab, rng, n_tokens, prefix=f"{rng.randrange(10**9)} ") for _ in range(n)]


TOOL_NAMES = ["read_file", "write_file", "edit_file", "list_directory", "search_code", "run_command",
              "run_tests", "git_diff", "git_commit", "web_fetch", "ask_user", "todo_write"]


def system_prompt(vocab: Vocab, seed: int, n_tokens: int) -> str:
    """An agent's system prompt: instructions, then tool definitions (JSON schemas as text),
    padded with instruction prose to about n_tokens tokens."""
    rng = random.Random(seed)
    tools = []
    for name in TOOL_NAMES:
        tools.append({"type": "function", "function": {
            "name": name, "description": words(rng, 12),
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string", "description": words(rng, 6)},
                "content": {"type": "string", "description": words(rng, 6)},
                "options": {"type": "object", "description": words(rng, 5)}},
                "required": ["path"]}}})
    intro = ("You are a coding agent working in a software repository. Use the tools below to read, "
             "search and change code; answer briefly.\n\n# Tools\n\n")
    # As many tool definitions as fit in about 3/4 of the budget, then guideline prose.
    k = len(tools)
    while k > 1 and vocab.count(intro + "\n".join(json.dumps(t) for t in tools[:k])) > 0.75 * n_tokens:
        k -= 1
    head = intro + "\n".join(json.dumps(t) for t in tools[:k]) + "\n\n# Guidelines\n\n"
    if vocab.count(head) >= n_tokens:
        return head
    return text_of_tokens(vocab, rng, n_tokens, prefix=head)


def agent_sessions(vocab: Vocab, seed: int, n_sessions: int, n_turns: int, system_tokens: int,
                   user_tokens: int) -> tuple[str, list[list[str]]]:
    """(the shared system prompt, per session its user messages turn by turn)."""
    system = system_prompt(vocab, seed, system_tokens)
    rng = random.Random(seed + 1)
    users = [[text_of_tokens(vocab, rng, user_tokens, prefix=f"Task {s}.{t}: ", add_bos=False)
              for t in range(n_turns)] for s in range(n_sessions)]
    return system, users
