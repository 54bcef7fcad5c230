#!/usr/bin/env python3
"""Renders the harmony prompt goldens with openai-harmony (PyPI openai-harmony==0.0.8, the
reference renderer of gpt-oss prompts). Each conversation of corpus.py, in the OpenAI chat shape
sluice receives, is mapped to harmony messages the way src/api/harmony_prompt.h documents (system
content with the pinned date, developer instructions + function tools, analysis / preamble /
call / final messages, tool results from "functions.NAME"), rendered for completion (or as is
when add_generation_prompt is off) and decoded to text.

Writes goldens/harmony.jsonl: {name, messages, tools, kwargs, add_generation_prompt, date,
expected}. tests/unit/api/harmony_prompt_golden_test.cc replays them through sluice's renderer.

openai-harmony needs the o200k vocabulary offline: build/testdata/tiktoken/o200k_base.tiktoken
(scripts/setup_test), else it is unpacked from PyPI bpe-openai's copy into a temporary directory.

  .venv/bin/python tests/reference/harmony/generate_goldens.py
"""
import gzip
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATE = "2025-06-15"


def tiktoken_dir():
    built = os.path.join(REPO, "build", "testdata", "tiktoken")
    if os.path.exists(os.path.join(built, "o200k_base.tiktoken")):
        return built
    import bpe_openai
    src = os.path.join(os.path.dirname(bpe_openai.__file__), "data", "o200k_base.tiktoken.gz")
    out = tempfile.mkdtemp(prefix="sluice-tiktoken-")
    with gzip.open(src, "rb") as f, open(os.path.join(out, "o200k_base.tiktoken"), "wb") as g:
        g.write(f.read())
    return out


os.environ.setdefault("TIKTOKEN_ENCODINGS_BASE", tiktoken_dir())
from openai_harmony import (Author, Conversation, DeveloperContent,  # noqa: E402
                            HarmonyEncodingName, Message, ReasoningEffort, Role, SystemContent,
                            ToolDescription, load_harmony_encoding)

sys.path.insert(0, HERE)
import corpus  # noqa: E402

EFFORTS = {"low": ReasoningEffort.LOW, "medium": ReasoningEffort.MEDIUM,
           "high": ReasoningEffort.HIGH}


def text(content):
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p["text"] for p in content)


def arguments(fn):
    a = fn.get("arguments")
    if a is None:
        return "{}"
    return a if isinstance(a, str) else json.dumps(a, ensure_ascii=False, separators=(",", ":"))


def developer(instructions, tools):
    dev = DeveloperContent.new()
    if instructions:
        dev = dev.with_instructions(instructions)
    if tools:
        dev = dev.with_function_tools([ToolDescription.new(
            f["name"], f.get("description", ""), parameters=f.get("parameters"))
            for f in tools])
    return Message.from_role_and_content(Role.DEVELOPER, dev)


def to_harmony(conv):
    kw = conv["kwargs"]
    msgs, tools = conv["messages"], conv["tools"]
    sys_content = (SystemContent.new()
                   .with_reasoning_effort(EFFORTS[kw.get("reasoning_effort", "medium")])
                   .with_conversation_start_date(DATE))
    if "model_identity" in kw:
        sys_content = sys_content.with_model_identity(kw["model_identity"])
    out = [Message.from_role_and_content(Role.SYSTEM, sys_content)]
    first, instructions = 0, ""
    if msgs and msgs[0]["role"] in ("system", "developer"):
        instructions, first = text(msgs[0]["content"]), 1
    if instructions or tools:
        out.append(developer(instructions, tools))
    names, last = {}, None
    for m in msgs[first:]:
        role = m["role"]
        if role in ("system", "developer"):
            if text(m["content"]):
                out.append(developer(text(m["content"]), None))
        elif role == "user":
            out.append(Message.from_role_and_content(Role.USER, text(m["content"])))
        elif role == "assistant":
            reasoning = m.get("reasoning_content") or m.get("reasoning") or m.get("thinking") or ""
            if reasoning:
                out.append(Message.from_role_and_content(Role.ASSISTANT, reasoning)
                           .with_channel("analysis"))
            content, calls = text(m.get("content")), m.get("tool_calls") or []
            if not calls:
                if content or not reasoning:
                    out.append(Message.from_role_and_content(Role.ASSISTANT, content)
                               .with_channel("final"))
                continue
            if content:
                out.append(Message.from_role_and_content(Role.ASSISTANT, content)
                           .with_channel("commentary"))
            for c in calls:
                fn = c["function"]
                out.append(Message.from_role_and_content(Role.ASSISTANT, arguments(fn))
                           .with_channel("commentary").with_recipient("functions." + fn["name"])
                           .with_content_type("<|constrain|>json"))
                names[c.get("id")] = fn["name"]
                last = fn["name"]
        elif role == "tool":
            name = names.get(m.get("tool_call_id"), last)
            out.append(Message.from_author_and_content(Author.new(Role.TOOL, "functions." + name),
                                                       text(m["content"]))
                       .with_channel("commentary").with_recipient("assistant"))
    return Conversation.from_messages(out)


def main():
    enc = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    path = os.path.join(HERE, "goldens", "harmony.jsonl")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        for conv in corpus.conversations():
            h = to_harmony(conv)
            if conv["add_generation_prompt"]:
                tokens = enc.render_conversation_for_completion(h, Role.ASSISTANT)
            else:
                tokens = enc.render_conversation(h)
            tools = [{"type": "function", "function": f} for f in conv["tools"] or []] or None
            line = {"name": conv["name"], "messages": conv["messages"], "tools": tools,
                    "kwargs": conv["kwargs"], "add_generation_prompt": conv["add_generation_prompt"],
                    "date": DATE, "expected": enc.decode_utf8(tokens)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    print(f"{path}: {n} conversations")


if __name__ == "__main__":
    main()
