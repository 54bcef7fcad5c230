"""Conversation corpus for the chat-template goldens: deterministic, covering system prompts,
multi-turn chats, tool definitions, assistant tool calls (arguments as objects and as JSON
strings), tool results, reasoning content, unicode, and a few malformed inputs on purpose."""

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                         "description": "Temperature unit", "default": "celsius"},
            },
            "required": ["city"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search_web",
        "description": "Search the web and return the top results.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Search query"},
                "max_results": {"type": "integer", "description": "How many results", "default": 5},
                "filters": {"type": "array", "items": {"type": "string"},
                            "description": "Optional filters"},
            },
            "required": ["query"],
        },
    },
}
CALC = {
    "type": "function",
    "function": {
        "name": "calculate",
        "description": "  Evaluate an arithmetic expression.  ",
        "parameters": {
            "type": "object",
            "properties": {
                "expression": {"type": "string", "description": "e.g. 2 * (3 + 4)"},
                "precision": {"type": "number", "description": "Decimal places"},
                "strict": {"type": "boolean", "description": "Fail on unknown symbols"},
            },
            "required": ["expression"],
        },
    },
}
NESTED = {
    "type": "function",
    "function": {
        "name": "create_event",
        "description": "Create a calendar event — with attendees (日本語 ok).",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "Event title"},
                "attendees": {
                    "type": "array",
                    "items": {"type": "object",
                              "properties": {"email": {"type": "string"},
                                             "optional": {"type": "boolean"}}},
                    "description": "People to invite",
                },
                "when": {"type": "object", "description": "Start and end",
                         "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                         "additionalProperties": {"type": "string"}},
                "priority": {"type": ["integer", "null"], "description": "1 (high) to 5 (low)"},
                "reminder": {"oneOf": [{"type": "integer", "description": "minutes"},
                                       {"type": "string", "description": "ISO duration"}],
                             "description": "Reminder before start"},
            },
            "required": ["title", "when"],
        },
    },
}
NOARGS = {
    "type": "function",
    "function": {"name": "get_time", "description": "Current time.",
                 "parameters": {"type": "object", "properties": {}}},
}
FLAT_TOOL = {  # a tool given without the {"type": "function", "function": ...} wrapper
    "name": "lookup", "description": "Look a word up.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string",
                                                             "description": "The word"}},
                   "required": ["word"]},
}

TOOLS_1 = [WEATHER]
TOOLS_3 = [WEATHER, SEARCH, CALC]
TOOLS_ALL = [WEATHER, SEARCH, CALC, NESTED, NOARGS]
TOOLSETS = {"tools_3": TOOLS_3}


def call(cid, name, args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


U = lambda c: {"role": "user", "content": c}  # noqa: E731
A = lambda c: {"role": "assistant", "content": c}  # noqa: E731
S = lambda c: {"role": "system", "content": c}  # noqa: E731


def tool(cid, content, name=None):
    m = {"role": "tool", "tool_call_id": cid, "content": content}
    if name:
        m["name"] = name
    return m


def conversations():
    """A list of dicts: name, messages, and optionally tools, documents, kwargs."""
    c = []
    add = lambda name, messages, **kw: c.append(dict(name=name, messages=messages, **kw))  # noqa

    add("user_only", [U("Hello!")])
    add("system_user", [S("You are a helpful assistant."), U("What is 2+2?")])
    add("multi_turn", [U("Hi"), A("Hello! How can I help?"), U("Tell me a joke."),
                       A("Why did the chicken cross the road?"), U("Why?")])
    add("system_multi_turn", [S("Be terse."), U("Capital of France?"), A("Paris."),
                              U("And of Italy?")])
    add("ends_with_assistant", [S("Be terse."), U("Capital of Spain?"), A("Madrid.")])
    add("long_chat", [m for i in range(6) for m in (U(f"Question {i}: what is {i} squared?"),
                                                       A(f"{i} squared is {i * i}."))]
        + [U("Thanks, last one: 7 squared?")])
    add("unicode", [S("Réponds en français. 你好 🌍"),
                    U("Ünïcödé: “quotes”, 'single', \"double\", back\\slash, tab\there\n"
                      "newline, emoji 😀, RTL مرحبا, zero-width\u200bspace, nbsp\u00a0x"),
                    A("D'accord — voilà: ✓ « ok »"), U("Encore? ½ ∑ ∞")])
    add("whitespace", [S("  padded system  \n"), U("\n  spaced user message  \n\n"),
                       A("  spaced answer \n"), U("   ")])
    add("empty_strings", [U(""), A(""), U("again")])
    add("markup_chars", [U("<b>bold</b> & <script>alert('x')</script> {{ not jinja }} {% raw %}"),
                         A("Use &lt; for <"), U("ok %s %d {0} {name}")])
    add("tools_user", [U("What's the weather in Paris?")], tools=TOOLS_1)
    add("tools_system_user", [S("You can call tools."), U("Search for jinja2 docs.")],
        tools=TOOLS_3)
    add("tools_all_user", [U("Plan a meeting with Bob tomorrow at 10.")], tools=TOOLS_ALL)
    add("tool_call_obj", [U("Weather in Paris?"),
                          {"role": "assistant", "content": "",
                           "tool_calls": [call("call12345", "get_weather",
                                               {"city": "Paris", "unit": "celsius"})]},
                          tool("call12345", "{\"temp\": 21, \"sky\": \"sunny\"}", "get_weather"),
                          A("It is 21°C and sunny in Paris.")], tools=TOOLS_1)
    add("tool_call_str", [U("Weather in Oslo?"),
                          {"role": "assistant", "content": "",
                           "tool_calls": [call("abcdefghi", "get_weather",
                                               "{\"city\": \"Oslo\"}")]},
                          tool("abcdefghi", "Cloudy, 4 degrees", "get_weather")], tools=TOOLS_1)
    add("tool_call_pending", [S("Use tools when needed."), U("Compute 2*(3+4) precisely."),
                              {"role": "assistant", "content": "Let me calculate.",
                               "tool_calls": [call("calc00001", "calculate",
                                                   {"expression": "2*(3+4)", "precision": 2.5,
                                                    "strict": True})]}], tools=TOOLS_3)
    add("parallel_calls", [U("Weather in Paris and Rome, and search for flights."),
                           {"role": "assistant", "content": None,
                            "tool_calls": [call("callAAAA1", "get_weather", {"city": "Paris"}),
                                           call("callBBBB2", "get_weather", {"city": "Rome"}),
                                           call("callCCCC3", "search_web",
                                                {"query": "flights Paris Rome",
                                                 "max_results": 3,
                                                 "filters": ["cheap", "direct"]})]},
                           tool("callAAAA1", "Paris: 20C"), tool("callBBBB2", "Rome: 25C"),
                           tool("callCCCC3", "[{\"title\": \"Flight 1\", \"price\": 99.5}]"),
                           A("Paris 20C, Rome 25C; flights from 99.5.")], tools=TOOLS_3)
    add("multi_step_tools", [S("Agent mode."), U("Find the weather where the Eiffel tower is."),
                             {"role": "assistant", "content": "",
                              "tool_calls": [call("step00001", "search_web",
                                                  {"query": "Eiffel tower city"})]},
                             tool("step00001", "Paris"),
                             {"role": "assistant", "content": "",
                              "tool_calls": [call("step00002", "get_weather",
                                                  {"city": "Paris"})]},
                             tool("step00002", "Sunny 22C"),
                             A("It's sunny, 22°C in Paris."),
                             U("And tomorrow?")], tools=TOOLS_3)
    add("tool_numbers", [U("Numbers please"),
                         {"role": "assistant", "content": "",
                          "tool_calls": [call("numbers01", "calculate",
                                              {"expression": "x", "precision": 1e-07,
                                               "big": 12345678901234, "neg": -0.5,
                                               "float_int": 3.0, "exp": 1e+22, "nil": None,
                                               "flags": [True, False],
                                               "nested": {"a": [1, {"b": "ü"}], "c": {}}})]},
                         tool("numbers01", "{\"ok\": true}")], tools=TOOLS_3)
    add("tool_dict_content", [U("Check"),
                              {"role": "assistant", "content": "",
                               "tool_calls": [call("dictc0001", "get_weather", {"city": "Nice"})]},
                              tool("dictc0001", {"temp": 19, "sky": "clear"})], tools=TOOLS_1)
    add("reasoning_content", [U("What is 17*23?"),
                              {"role": "assistant", "content": "17*23 = 391.",
                               "reasoning_content": "17*20=340, 17*3=51, total 391."},
                              U("And 18*23?")])
    add("reasoning_last", [U("Think about 5+5."),
                           {"role": "assistant", "content": "10",
                            "reasoning_content": "5+5 is 10."}])
    add("think_in_content", [U("Riddle?"),
                             A("<think>\nThe user wants a riddle.\n</think>\n\nWhat has keys "
                               "but no locks? A piano."),
                             U("Another?")])
    add("reasoning_with_tools", [U("Weather in Lima?"),
                                 {"role": "assistant", "content": "",
                                  "reasoning_content": "I should call get_weather.",
                                  "tool_calls": [call("lima00001", "get_weather",
                                                      {"city": "Lima"})]},
                                 tool("lima00001", "Foggy 18C"),
                                 {"role": "assistant", "content": "Foggy, 18°C.",
                                  "reasoning_content": "Summarize the tool output."}],
        tools=TOOLS_1)
    add("thinking_field", [S("You are a careful assistant."), U("Plan a trip."),
                           {"role": "assistant", "content": "Here is a plan.",
                            "thinking": "Consider budget and time."},
                           U("Shorter please.")])
    add("system_think_flag", [S("Answer briefly. /no_think"), U("Why is the sky blue?")])
    add("system_think_flag2", [S("Reason carefully /think"), U("Prove 1+1=2.")])
    add("developer_role", [{"role": "developer", "content": "Always answer in JSON."},
                           U("Give me a color.")], tools=TOOLS_1)
    add("named_messages", [S("Multi-user chat."),
                           {"role": "user", "name": "alice", "content": "Hi from Alice"},
                           {"role": "user", "name": "bob", "content": "Hi from Bob"}])
    add("content_parts", [U([{"type": "text", "text": "Describe this image:"},
                             {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]),
                          A("A cat."), U([{"type": "text", "text": "Thanks!"}])])
    add("flat_tool_def", [U("Define 'serendipity'.")], tools=[FLAT_TOOL])
    add("noargs_tool_call", [U("What time is it?"),
                             {"role": "assistant", "content": "",
                              "tool_calls": [call("timecall1", "get_time", {})]},
                             tool("timecall1", "12:00")], tools=[NOARGS])
    add("documents", [U("Summarize the documents.")],
        documents=[{"doc_id": 1, "title": "Doc A", "text": "Alpha is the first letter."},
                   {"doc_id": 2, "title": "Doc B", "text": "Omega is the last letter."}])
    # malformed on purpose: most templates raise or render oddly here
    add("only_system", [S("Just a system message.")])
    add("no_messages", [])
    add("double_user", [U("First"), U("Second")])
    add("tool_without_call", [U("Hi"), tool("orphan001", "orphan result")])
    add("assistant_first", [A("I start."), U("Ok.")])
    add("bad_call_id", [U("Weather?"),
                        {"role": "assistant", "content": "",
                         "tool_calls": [call("x", "get_weather", {"city": "Bern"})]},
                        tool("x", "Rainy")], tools=TOOLS_1)
    # extra template kwargs
    add("gpt_oss_kwargs", [S("Be helpful."), U("Browse for news.")], tools=TOOLS_1,
        kwargs={"builtin_tools": ["browser", "python"], "reasoning_effort": "high",
                "model_identity": "You are a test model."})
    add("llama_kwargs", [S("Llama system."), U("What's up?")], tools=TOOLS_1,
        kwargs={"tools_in_user_message": False, "date_string": "01 Jan 2025"})
    add("llama_builtin", [U("Search the web for cats."),
                          {"role": "assistant", "content": "",
                           "tool_calls": [call("brave0001", "brave_search", {"query": "cats"})]},
                          {"role": "ipython", "content": "Cats are great."}],
        kwargs={"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]})
    add("granite_thinking", [U("Explain gravity.")], kwargs={"thinking": True})
    add("granite_controls", [U("Cite sources.")],
        documents=[{"doc_id": "d1", "text": "Gravity attracts mass."}],
        kwargs={"controls": {"citations": True, "hallucinations": True, "length": "short"}})
    add("custom_tools_kw", [U("Use custom tool.")], kwargs={"custom_tools": [WEATHER]})
    add("vision_ids", [U([{"type": "image"}, {"type": "text", "text": "What is this?"}]),
                       A("A dog."), U([{"type": "video"}, {"type": "text", "text": "And this?"}])],
        kwargs={"add_vision_id": True})
    return c


# Conversations rendered with enable_thinking on and off (in addition to unset).
THINKING_VARIANTS = ["user_only", "system_user", "multi_turn", "tools_user", "tool_call_obj",
                     "reasoning_content", "think_in_content", "reasoning_with_tools",
                     "system_think_flag", "multi_step_tools"]
