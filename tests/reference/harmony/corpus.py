"""Conversations for the harmony prompt goldens, in the OpenAI chat shape sluice receives: each
{name, messages, tools (OpenAI function objects), kwargs (chat_template_kwargs: reasoning_effort,
model_identity), add_generation_prompt}."""

WEATHER = {"name": "get_weather", "description": "Gets the current weather in a city.",
           "parameters": {"type": "object",
                          "properties": {"city": {"type": "string", "description": "The city"},
                                         "unit": {"type": "string", "enum": ["c", "f"],
                                                  "default": "c"}},
                          "required": ["city"]}}
SEARCH = {"name": "search", "description": "Searches the web.\nReturns the top results.",
          "parameters": {"type": "object",
                         "properties": {"query": {"type": "string"},
                                        "max_results": {"type": "integer", "default": 5},
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                        "filters": {"type": "object", "description": "Narrowing",
                                                    "properties": {"site": {"type": "string"},
                                                                   "after": {"type": "string",
                                                                             "format": "date"}},
                                                    "required": ["site"]}},
                         "required": ["query"]}}
PING = {"name": "ping", "description": "Checks that the service is up."}
EMPTY = {"name": "now", "description": "The time.",
         "parameters": {"type": "object", "properties": {}}}
NO_DESCRIPTION = {"name": "noop", "parameters": {"type": "object",
                                                 "properties": {"x": {"type": "number"}}}}
COMPLEX = {"name": "book", "description": "Books a trip.",
           "parameters": {"type": "object", "properties": {
               "when": {"oneOf": [{"type": "string", "description": "ISO date"},
                                  {"type": "number", "default": 0}],
                        "description": "Departure"},
               "seat": {"oneOf": [{"type": "string", "enum": ["aisle", "window"]},
                                  {"type": "null"}], "default": "aisle"},
               "class": {"type": "string", "title": "Cabin", "examples": ["economy", "first"]},
               "notes": {"type": ["string", "null"]},
               "pets": {"type": "integer", "nullable": True},
               "travellers": {"type": "array", "items": {
                   "type": "object", "properties": {"name": {"type": "string"},
                                                    "age": {"type": "integer"}},
                   "required": ["name"]}},
               "prefs": {"type": "object", "default": {"meal": "veg"}},
               "any": {},
               "flags": {"type": "array", "default": [1, 2]},
               "refundable": {"type": "boolean", "default": False}},
               "required": ["when"]}}

CALL_PARIS = {"id": "call_1", "type": "function",
              "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}


def user(text):
    return {"role": "user", "content": text}


def conversations():
    convs = []

    def add(name, messages, tools=None, kwargs=None, agp=True):
        convs.append({"name": name, "messages": messages, "tools": tools, "kwargs": kwargs or {},
                      "add_generation_prompt": agp})

    for effort in ("low", "medium", "high"):
        add("user_only_" + effort, [user("What is 2 + 2?")], kwargs={"reasoning_effort": effort})
    add("default_effort", [user("Hi")])
    add("system_and_user", [{"role": "system", "content": "Be terse."}, user("Hi")])
    add("developer_and_user", [{"role": "developer", "content": "Answer in French."}, user("Hi")])
    add("model_identity", [user("Who are you?")], kwargs={"model_identity": "You are Sluice."})
    add("tools", [{"role": "system", "content": "Use tools."}, user("Weather in Paris?")],
        tools=[WEATHER, SEARCH])
    add("tools_without_system", [user("Weather in Paris?")], tools=[WEATHER])
    add("tool_schemas", [user("Go")], tools=[COMPLEX, PING, EMPTY, NO_DESCRIPTION, SEARCH])
    call_turn = {"role": "assistant", "content": None, "reasoning_content": "Need the weather.",
                 "tool_calls": [CALL_PARIS]}
    result = {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 20, \"sky\": \"clear\"}"}
    add("tool_call_and_result", [user("Weather in Paris?"), call_turn, result], tools=[WEATHER])
    final = {"role": "assistant", "content": "It is 20 °C and clear in Paris.",
             "reasoning_content": "Report it."}
    add("tool_round_then_final", [user("Weather in Paris?"), call_turn, result, final,
                                  user("Thanks!")], tools=[WEATHER])
    add("multi_turn_reasoning",
        [user("Hi"), {"role": "assistant", "content": "Hello!", "reasoning_content": "Greet."},
         user("2+2?"), {"role": "assistant", "content": "4", "reasoning_content": "Add."},
         user("And 3+3?")])
    add("second_turn_calls_after_a_final",
        [user("Hi"), {"role": "assistant", "content": "Hello!", "reasoning_content": "Greet."},
         user("Weather in Paris?"), call_turn, result], tools=[WEATHER])
    add("preamble_and_call",
        [user("Weather in Paris?"),
         {"role": "assistant", "content": "Let me check.", "tool_calls": [CALL_PARIS]}, result],
        tools=[WEATHER])
    parallel = {"role": "assistant", "content": "", "tool_calls": [
        CALL_PARIS,
        {"id": "call_2", "type": "function",
         "function": {"name": "search", "arguments": "{\"query\": \"Paris events\"}"}}]}
    add("parallel_calls",
        [user("Weather and events in Paris?"), parallel,
         {"role": "tool", "tool_call_id": "call_2", "content": "Fête de la musique"},
         {"role": "tool", "tool_call_id": "call_1", "content": "20 degrees"}],
        tools=[WEATHER, SEARCH])
    add("object_arguments",
        [user("Weather in Oslo?"),
         {"role": "assistant", "tool_calls": [
             {"id": "toolu_1", "type": "function",
              "function": {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "c"}}}]},
         {"role": "tool", "tool_call_id": "toolu_1", "content": "-3"}], tools=[WEATHER])
    add("thinking_field",
        [user("Weather?"), {"role": "assistant", "thinking": "Call it.",
                            "tool_calls": [CALL_PARIS]}, result], tools=[WEATHER])
    add("unicode", [{"role": "system", "content": "Réponds en français. 😀"},
                    user("Привет, 世界! «ça va?»")])
    add("later_system_message",
        [user("Hi"), {"role": "assistant", "content": "Hello!"},
         {"role": "system", "content": "From now on, be formal."}, user("Bye")])
    add("content_parts", [{"role": "user", "content": [{"type": "text", "text": "Line one"},
                                                        {"type": "text", "text": "line two"}]}])
    add("no_generation_prompt", [user("Hi"), {"role": "assistant", "content": "Hello!"}],
        agp=False)
    add("multiline_and_whitespace", [user("  spaced\n\nlines\t ")],
        kwargs={"reasoning_effort": "high"})
    return convs
