"""Responses API custom tools against `sluice serve` on the default model (SmolLM2-135M, generic
JSON call format), with the official `openai` client: a forced tool's input is constrained by its
Lark or regex grammar (and Lark itself parses what comes out), streamed as
custom_tool_call_input.delta events; invalid grammars are 400s naming the tool's definition;
custom_tool_call_output goes back to the model through previous_response_id or explicit items.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import lark
import openai
import pytest

from server_util import SluiceServer

MAX_TOKENS = 24
ASSIGN = """start: "let " NAME " = " value ";"
value: NUMBER | "[" NUMBER ("," NUMBER)* "]" | ESCAPED_STRING
NAME: /[a-z][a-z0-9_]*/
%import common.NUMBER
%import common.ESCAPED_STRING
"""
ASSIGN_TOOL = {"type": "custom", "name": "assign", "description": "Assigns a value to a variable",
               "format": {"type": "grammar", "syntax": "lark", "definition": ASSIGN}}
FORCE_ASSIGN = {"type": "custom", "name": "assign"}


@pytest.fixture(scope="module")
def client(sluice_bin):
    with SluiceServer(sluice_bin) as s:
        yield openai.OpenAI(base_url=s.base_url + "/v1", api_key="x", max_retries=0, timeout=300)


def create(client, input, **kw):
    kw.setdefault("max_output_tokens", MAX_TOKENS)
    kw.setdefault("temperature", 0)
    return client.responses.create(model="m", input=input, **kw)


def only_call(response):
    calls = [item for item in response.output if item.type == "custom_tool_call"]
    assert len(calls) == 1, response.output
    return calls[0]


def test_forced_lark_tool_input_parses_with_lark(client):
    r = create(client, "Set x to the number seven.", tools=[ASSIGN_TOOL], tool_choice=FORCE_ASSIGN)
    assert r.status == "completed"
    call = only_call(r)
    assert call.name == "assign" and call.call_id.startswith("call_")
    assert call.id.startswith("ctc_")
    lark.Lark(ASSIGN, parser="earley").parse(call.input)  # raises when Lark disagrees
    assert r.tool_choice.type == "custom" and r.tool_choice.name == "assign"
    tool = r.tools[0]
    assert tool.type == "custom" and tool.format.type == "grammar"
    assert tool.format.syntax == "lark" and tool.format.definition == ASSIGN


def test_forced_apply_patch_is_a_patch(client):
    corpus = json.loads((Path(__file__).parents[1] / "data" / "lark" / "corpus.json").read_text())
    case = next(c for c in corpus if c["name"] == "apply_patch")  # Codex's grammar
    tool = {"type": "custom", "name": "apply_patch", "description": "Edits files",
            "format": {"type": "grammar", "syntax": "lark", "definition": case["grammar"]}}
    r = create(client, "Create hello.txt containing hi.", tools=[tool],
               tool_choice={"type": "custom", "name": "apply_patch"}, max_output_tokens=64)
    assert r.status == "completed"
    patch = only_call(r).input
    assert patch.startswith("*** Begin Patch\n") and "*** End Patch" in patch
    lark.Lark(case["lark_grammar"], parser="earley").parse(patch)


def test_cut_input_is_incomplete(client):
    r = create(client, "Set x to 7.", tools=[ASSIGN_TOOL], tool_choice=FORCE_ASSIGN,
               max_output_tokens=2)
    assert r.status == "incomplete"
    call = only_call(r)
    assert call.model_extra.get("status") == "incomplete"
    assert "let ".startswith(call.input) or call.input.startswith("let")


def test_forced_regex_and_free_text_tools(client):
    regex_tool = {"type": "custom", "name": "date", "format": {
        "type": "grammar", "syntax": "regex", "definition": r"\d{4}-\d{2}-\d{2}"}}
    r = create(client, "When did it happen?", tools=[regex_tool],
               tool_choice={"type": "custom", "name": "date"})
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", only_call(r).input)
    free = {"type": "custom", "name": "note", "description": "Writes a note"}
    r = create(client, "Write a note about cats.", tools=[free],
               tool_choice={"type": "custom", "name": "note"}, max_output_tokens=8)
    call = only_call(r)
    assert call.name == "note" and call.input
    assert r.tools[0].format.type == "text"


def test_streamed_input_deltas_concatenate_to_the_input(client):
    kw = dict(model="m", input="Set y to a list of three numbers.", tools=[ASSIGN_TOOL],
              tool_choice=FORCE_ASSIGN, max_output_tokens=MAX_TOKENS, temperature=0)
    with client.responses.stream(**kw) as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [e.type for e in events]
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert types[-3:] == ["response.custom_tool_call_input.done", "response.output_item.done",
                          "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e for e in events if e.type == "response.custom_tool_call_input.delta"]
    assert len(deltas) > 1  # streamed as generated
    item_id = events[2].item.id
    assert events[2].item.type == "custom_tool_call"
    assert all(d.item_id == item_id and d.output_index == 0 for d in deltas)
    done = next(e for e in events if e.type == "response.custom_tool_call_input.done")
    text = "".join(d.delta for d in deltas)
    assert done.input == text == only_call(final).input
    assert events[-2].item.input == text and events[-2].item.type == "custom_tool_call"
    lark.Lark(ASSIGN, parser="earley").parse(text)


def test_required_call_comes_back_as_custom_tool_call(client):
    # Offered as a function with one string `input`; the input is checked against the grammar
    # after the call (the tiny model rarely writes a valid one: status tells which).
    r = create(client, "Set x to 1.", tools=[ASSIGN_TOOL], tool_choice="required",
               max_output_tokens=48)
    call = only_call(r)
    assert call.name == "assign"
    status = call.model_extra.get("status") if call.model_extra else getattr(call, "status", None)
    try:
        lark.Lark(ASSIGN, parser="earley").parse(call.input)
        assert status == "completed"
    except lark.exceptions.LarkError:
        assert status == "incomplete"


def test_custom_tool_output_round_trips(client):
    first = create(client, "Set x to 7.", tools=[ASSIGN_TOOL], tool_choice=FORCE_ASSIGN)
    call = only_call(first)
    result = {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "x is now 7"}
    chained = create(client, [result], previous_response_id=first.id, tools=[ASSIGN_TOOL])
    assert chained.status in ("completed", "incomplete") and chained.output
    assert chained.usage.input_tokens > first.usage.input_tokens
    # The same conversation as explicit items: the same prompt.
    items = [{"role": "user", "content": "Set x to 7."},
             {"type": "custom_tool_call", "call_id": call.call_id, "name": "assign",
              "input": call.input},
             result]
    explicit = create(client, items, tools=[ASSIGN_TOOL])
    assert explicit.usage.input_tokens == chained.usage.input_tokens
    assert explicit.output_text == chained.output_text


@pytest.mark.parametrize("tool,param,message", [
    ({"format": {"type": "grammar", "syntax": "lark", "definition": "start: \"a\" (\"b\""}},
     "tools[0].format.definition", "[lark] 1:16 expected ')', got end of grammar"),
    ({"format": {"type": "grammar", "syntax": "lark", "definition": "start: item\n"}},
     "tools[0].format.definition", "[lark] 1:8 undefined rule 'item'"),
    ({"format": {"type": "grammar", "syntax": "lark",
                 "definition": "start: X\n%import common.NOPE\n"}},
     "tools[0].format.definition", "unknown import common.NOPE"),
    ({"format": {"type": "grammar", "syntax": "lark",
                 "definition": "start: a\na: b \"x\" | \"y\"\nb: a \"z\"\n"}},
     "tools[0].format.definition", "[lark] 3:4 left recursion through a -> b -> a"),
    ({"format": {"type": "grammar", "syntax": "regex", "definition": "(?<=a)b"}},
     "tools[0].format.definition", "lookaround is not supported"),
    ({"format": {"type": "grammar", "syntax": "ebnf", "definition": "x"}},
     "tools[0].format.syntax", "must be 'lark' or 'regex'"),
    ({"name": None}, "tools[0].name", "name is required"),
])
def test_invalid_custom_tool_is_400(client, tool, param, message):
    body = {"type": "custom", "name": "t", **tool}
    if body["name"] is None:
        del body["name"]
    with pytest.raises(openai.BadRequestError) as e:
        create(client, "hi", tools=[body])
    err = e.value.body
    assert e.value.status_code == 400
    assert err["type"] == "invalid_request_error" and err["param"] == param
    assert message in err["message"]
