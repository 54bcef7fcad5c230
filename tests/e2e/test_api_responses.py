"""The OpenAI Responses API of `sluice serve` (POST /v1/responses, streaming, stored responses,
previous_response_id, /v1/responses/input_tokens), driven by the official `openai` client with its
typed objects and stream events, and by an OpenAI Agents SDK agent with two function tools.

The server runs the default model (SmolLM2-135M-Instruct Q4_1, whose template knows no tools: the
generic JSON call format). Generations stay short so the module runs in a few minutes on two cores.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.request

import jsonschema
import openai
import pytest

from server_util import SluiceServer

MAX_TOKENS = 16
GREEDY = {"temperature": 0}

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "description": "Current time in a timezone",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string", "maxLength": 30}},
                   "required": ["tz"]},
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20},
                   "age": {"type": "integer", "minimum": 0, "maximum": 150}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server(sluice_bin):
    with SluiceServer(sluice_bin) as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def model_id(server):
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=10) as r:
        return json.loads(r.read())["data"][0]["id"]


def create(client, input, **kw):
    kw.setdefault("max_output_tokens", MAX_TOKENS)
    kw.setdefault("temperature", 0)
    return client.responses.create(model="m", input=input, **kw)


def message_text(response) -> str:
    return "".join(c.text for item in response.output if item.type == "message"
                   for c in item.content if c.type == "output_text")


# ---------------------------------------------------------------- the response object


def test_create_shape(client, model_id):
    r = create(client, "Name three colors.", instructions="Answer briefly.",
               metadata={"run": "e2e"}, user="u1", safety_identifier="s1")
    assert r.id.startswith("resp_") and r.object == "response"
    assert isinstance(r.created_at, (int, float)) and r.created_at > 0
    assert r.status in ("completed", "incomplete") and r.error is None
    assert r.model == model_id
    assert r.instructions == "Answer briefly."
    assert r.metadata == {"run": "e2e"}
    assert r.max_output_tokens == MAX_TOKENS and r.temperature == 0 and r.top_p == 1
    assert r.tool_choice == "auto" and r.tools == [] and r.parallel_tool_calls is True
    assert r.store is True and r.previous_response_id is None
    assert r.text.format.type == "text"
    assert len(r.output) == 1
    m = r.output[0]
    assert m.type == "message" and m.role == "assistant" and m.id.startswith("msg_")
    assert m.content[0].type == "output_text" and m.content[0].annotations == []
    assert r.output_text == m.content[0].text and r.output_text
    u = r.usage
    assert u.input_tokens > 0 and 0 < u.output_tokens <= MAX_TOKENS
    assert u.total_tokens == u.input_tokens + u.output_tokens
    assert u.input_tokens_details.cached_tokens >= 0
    assert u.output_tokens_details.reasoning_tokens == 0


def test_max_output_tokens_makes_it_incomplete(client):
    r = create(client, "Write a long story about the sea.", max_output_tokens=3)
    assert r.status == "incomplete"
    assert r.incomplete_details.reason == "max_output_tokens"
    assert r.usage.output_tokens == 3
    assert r.output[0].status == "incomplete"


def test_items_input_equals_string_input(client):
    a = create(client, "What is the capital of France?")
    b = create(client, [{"role": "user", "content": [
        {"type": "input_text", "text": "What is the capital of France?"}]}])
    c = create(client, [{"type": "message", "role": "user",
                         "content": "What is the capital of France?"}])
    assert a.output_text == b.output_text == c.output_text
    assert a.usage.input_tokens == b.usage.input_tokens == c.usage.input_tokens


def test_input_tokens_counts_the_prompt(client):
    kw = dict(input=[{"role": "developer", "content": "Be brief."},
                     {"role": "user", "content": "Hi there"}], instructions="You are a bot.")
    count = client.responses.input_tokens.count(model="m", **kw)
    assert count.object == "response.input_tokens"
    r = create(client, max_output_tokens=2, **kw)
    assert count.input_tokens == r.usage.input_tokens


# ---------------------------------------------------------------- streaming


def test_stream_typed_events_in_openais_order(client):
    kw = dict(model="m", input="Name three colors.", max_output_tokens=MAX_TOKENS, **GREEDY)
    with client.responses.stream(**kw) as stream:
        events = list(stream)
    final = events[-1].response  # get_final_response() wants response.completed only
    types = [e.type for e in events]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert types[:5] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added", "response.output_text.delta"]
    last = "response.completed" if final.status == "completed" else "response.incomplete"
    assert types[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", last]
    assert events[0].response.status == "in_progress" and events[0].response.output == []
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    text = "".join(e.delta for e in deltas)
    item_id = events[2].item.id
    assert all(e.item_id == item_id and e.output_index == 0 and e.content_index == 0
               for e in deltas)
    done = next(e for e in events if e.type == "response.output_text.done")
    assert done.text == text
    assert final.output_text == text
    assert final.output[0].id == item_id
    # The same request not streamed gives the same text.
    assert client.responses.create(**kw).output_text == text


def test_raw_sse_names_every_event(server):
    body = {"input": "Hi", "max_output_tokens": 4, "stream": True}
    req = urllib.request.Request(server.base_url + "/v1/responses", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.headers.get("Content-Type", "").startswith("text/event-stream")
        blocks = [b for b in r.read().decode().split("\n\n") if b.strip()]
    for n, block in enumerate(blocks):
        name_line, data_line = block.split("\n")
        name, data = name_line[len("event: "):], json.loads(data_line[len("data: "):])
        assert data["type"] == name and data["sequence_number"] == n


# ---------------------------------------------------------------- tools and structured output


def test_forced_function_call(client):
    r = create(client, "What is the weather in Paris?", tools=[WEATHER, TIME],
               tool_choice={"type": "function", "name": "get_weather"}, max_output_tokens=60)
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) >= 1 and r.status == "completed"
    c = calls[0]
    assert c.name == "get_weather" and c.call_id.startswith("call_") and c.id.startswith("fc_")
    assert c.status == "completed"
    jsonschema.validate(json.loads(c.arguments), WEATHER["parameters"])
    assert r.tool_choice.type == "function" and r.tool_choice.name == "get_weather"
    assert [t.name for t in r.tools] == ["get_weather", "get_time"]


def test_streamed_function_call_arguments_arrive_as_deltas(client):
    kw = dict(model="m", input="What time is it in Tokyo?", tools=[WEATHER, TIME],
              tool_choice="required", parallel_tool_calls=False, max_output_tokens=60, **GREEDY)
    with client.responses.stream(**kw) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1 and len(deltas) > 1  # streamed as generated, not at the end
    assert "".join(d.delta for d in deltas) == done[0].arguments
    call = [o for o in final.output if o.type == "function_call"]
    assert len(call) == 1 and call[0].arguments == done[0].arguments
    added = next(e for e in events if e.type == "response.output_item.added")
    assert added.item.type == "function_call" and added.item.id == done[0].item_id
    non_streamed = client.responses.create(**kw)
    assert [o.arguments for o in non_streamed.output if o.type == "function_call"] == \
        [call[0].arguments]


def test_function_call_output_round_trip(client):
    first = create(client, "What is the weather in Paris?", tools=[WEATHER],
                   tool_choice="required", max_output_tokens=60)
    call = next(o for o in first.output if o.type == "function_call")
    items = [{"role": "user", "content": "What is the weather in Paris?"},
             *[o.model_dump(exclude_none=True) for o in first.output],
             {"type": "function_call_output", "call_id": call.call_id, "output": "22 C, sunny"}]
    second = create(client, items, tools=[WEATHER], max_output_tokens=24)
    assert second.status in ("completed", "incomplete") and second.output
    assert second.usage.input_tokens > first.usage.input_tokens


def test_json_schema_output(client):
    r = create(client, "Give a person's name and age as JSON.", max_output_tokens=60,
               text={"format": {"type": "json_schema", "name": "person", "schema": PERSON,
                                "strict": True}})
    assert r.status == "completed"
    jsonschema.validate(json.loads(r.output_text), PERSON)
    assert r.text.format.type == "json_schema" and r.text.format.name == "person"
    o = create(client, "Reply in JSON.", max_output_tokens=40,
               text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(o.output_text), dict)


# ---------------------------------------------------------------- stored responses


def test_previous_response_id_chain_get_and_delete(client):
    first = create(client, "My name is Ada. Say hello.")
    assert client.responses.retrieve(first.id).output_text == first.output_text
    second = create(client, "What is my name?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    # The second prompt holds the first turn: its input and output.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
    third = create(client, "Thanks.", previous_response_id=second.id, max_output_tokens=4)
    assert third.usage.input_tokens > second.usage.input_tokens + second.usage.output_tokens
    count = client.responses.input_tokens.count(model="m", input="Thanks.",
                                                previous_response_id=second.id)
    assert count.input_tokens == third.usage.input_tokens
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(first.id)
    # The chain does not depend on the deleted link: each response stores its conversation.
    assert create(client, "Bye.", previous_response_id=second.id, max_output_tokens=2).output


def test_store_false_is_not_kept(client):
    r = create(client, "Hi", store=False, max_output_tokens=2)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_streamed_response_is_stored(client):
    with client.responses.stream(model="m", input="Hi", max_output_tokens=4) as stream:
        final = list(stream)[-1].response
    assert final.status in ("completed", "incomplete")
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_stateless_chain_with_encrypted_reasoning(client):
    # Codex's stateless mode: store false, include reasoning.encrypted_content, the output items
    # sent back as input. A reasoning item carrying only this server's encrypted_content is taken.
    r = create(client, "Hi", store=False, max_output_tokens=2,
               include=["reasoning.encrypted_content"])
    items = [{"role": "user", "content": "Hi"}] + [o.model_dump(exclude_none=True) for o in r.output]
    items.insert(1, {"type": "reasoning", "id": "rs_1", "summary": [],
                     "encrypted_content": "sluice-reasoning-v1:dGhvdWdodA=="})
    items.append({"role": "user", "content": "Again"})
    assert create(client, items, store=False, max_output_tokens=2).output
    with pytest.raises(openai.BadRequestError) as e:
        create(client, [{"type": "reasoning", "summary": [], "encrypted_content": "gAAAA-other"},
                        {"role": "user", "content": "Hi"}], max_output_tokens=2)
    assert e.value.body["param"] == "input"


def test_unknown_previous_response_id_is_404(client):
    with pytest.raises(openai.NotFoundError) as e:
        create(client, "Hi", previous_response_id="resp_does_not_exist")
    assert e.value.status_code == 404
    assert e.value.body["param"] == "previous_response_id"
    assert "resp_does_not_exist" in e.value.body["message"]


# ---------------------------------------------------------------- rejected input


@pytest.mark.parametrize("kw,param", [
    ({"background": True}, "background"),
    ({"conversation": "conv_1"}, "conversation"),
    ({"truncation": "auto"}, "truncation"),
    ({"include": ["message.output_text.logprobs"]}, "include"),
    ({"tools": [{"type": "custom", "name": "apply_patch", "format": {
        "type": "grammar", "syntax": "lark", "definition": "start: hunk"}}]},
     "tools[0].format.definition"),
    ({"tools": [{"type": "web_search"}]}, "tools"),
    ({"extra_body": {"no_such_field": 1}}, "no_such_field"),
    ({"input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://example.com/a.png"}]}]}, "input"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input"),
    ({"text": {"format": {"type": "json_schema", "schema": PERSON}}}, "text.format"),
    ({"temperature": 5}, "temperature"),
])
def test_unsupported_or_invalid_fields_are_400(client, kw, param):
    kw.setdefault("input", "Hi")
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="m", max_output_tokens=2, **kw)
    assert e.value.status_code == 400
    assert e.value.body["param"] == param, e.value.body
    assert e.value.body["type"] == "invalid_request_error"


# ---------------------------------------------------------------- an Agents SDK agent


def test_agents_sdk_agent_with_two_tools(server):
    """An Agents SDK agent over the Responses API: look a person's city up, then its weather,
    then answer. The tiny model's choices are made deterministic: each tool is enabled only for
    its step, and a tool call is required while a tool is enabled (the wire protocol unchanged)."""
    from agents import (Agent, ModelSettings, OpenAIResponsesModel, RunConfig, Runner,
                        function_tool, set_tracing_disabled)

    set_tracing_disabled(True)
    calls: list[tuple[str, str]] = []

    def before(name):
        return lambda ctx, agent: [c[0] for c in calls] == before.order[:before.order.index(name)]

    before.order = ["find_city", "get_weather"]

    @function_tool(is_enabled=before("find_city"))
    def find_city(person: str) -> str:
        """The city a person lives in."""
        calls.append(("find_city", person))
        return "Lisbon"

    @function_tool(is_enabled=before("get_weather"))
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(("get_weather", city))
        return f"It is 21 C and sunny in {city}."

    class ForcedToolsModel(OpenAIResponsesModel):
        def _settings(self, model_settings, tools):
            return dataclasses.replace(model_settings, tool_choice="required" if tools else None)

        async def get_response(self, system_instructions, input, model_settings, tools, *a, **kw):
            return await super().get_response(system_instructions, input,
                                              self._settings(model_settings, tools), tools, *a, **kw)

        def stream_response(self, system_instructions, input, model_settings, tools, *a, **kw):
            return super().stream_response(system_instructions, input,
                                           self._settings(model_settings, tools), tools, *a, **kw)

    client = openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="x", max_retries=0,
                                timeout=300)
    agent = Agent(
        name="weather",
        instructions="Find where the person lives, then get the weather there, then answer.",
        model=ForcedToolsModel(model="sluice", openai_client=client),
        model_settings=ModelSettings(temperature=0, max_tokens=48, parallel_tool_calls=False),
        tools=[find_city, get_weather],
        reset_tool_choice=False,
    )
    question = "What is the weather where Ada lives?"
    config = RunConfig(tracing_disabled=True)

    async def both():  # one event loop for the client's connections
        result = await Runner.run(agent, question, run_config=config)
        first_calls = list(calls)
        calls.clear()
        run = Runner.run_streamed(agent, question, run_config=config)  # the streamed path
        async for _ in run.stream_events():
            pass
        return result, first_calls, run

    result, first_calls, run = asyncio.run(both())
    assert [c[0] for c in first_calls] == ["find_city", "get_weather"], first_calls
    assert all(isinstance(c[1], str) for c in first_calls)
    assert isinstance(result.final_output, str) and result.final_output.strip()
    types = [item.type for item in result.new_items]
    assert types.count("tool_call_item") == 2 and types.count("tool_call_output_item") == 2
    assert types[-1] == "message_output_item"
    assert [c[0] for c in calls] == ["find_city", "get_weather"], calls
    assert isinstance(run.final_output, str) and run.final_output.strip()
