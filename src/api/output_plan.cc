#include "api/output_plan.h"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "api/api_error.h"
#include "common/env.h"
#include "model/arch/arch_spec.h"
#include "structured/grammar_matcher.h"
#include "tokenizer/tokenizer.h"

namespace sluice::api {

namespace {

using Choice = ToolRequest::Choice;

// The engine's view of a grammar matcher.
class GrammarConstraint : public TokenConstraint {
 public:
  GrammarConstraint(std::shared_ptr<const structured::Grammar> g,
                    std::shared_ptr<const structured::TokenVocab> v)
      : matcher_(std::move(g), std::move(v)) {}
  // The matcher's budget rule (grammar_matcher.h): each token must leave a completion that fits
  // in the tokens left; once tokens_left <= min_bytes_to_finish() + 1 each must make progress.
  void fill_mask(std::span<uint32_t> bitmask, int32_t tokens_left) override {
    matcher_.fill_mask(bitmask, tokens_left);
  }
  bool accept(int32_t token) override { return matcher_.accept(token); }
  bool must_finish() const override { return matcher_.must_finish(); }

 private:
  structured::GrammarMatcher matcher_;
};

// OpenAI's rule for function names.
bool valid_function_name(const std::string& name) {
  static const std::regex kName("^[A-Za-z0-9_.:-]{1,128}$");
  return std::regex_match(name, kName);
}

void check_tools(const ToolRequest& t) {
  std::vector<std::string> names;
  for (size_t i = 0; i < t.functions.size(); ++i) {
    const Json& f = t.functions[i];
    const std::string where = t.param + "[" + std::to_string(i) + "]";
    if (!f.is_object()) throw invalid(where + " must be an object", t.param);
    if (!f.contains("name") || !f["name"].is_string() ||
        !valid_function_name(f["name"].get<std::string>()))
      throw invalid(where + ".name must be 1-128 letters, digits, '_', '-', '.' or ':'", t.param);
    if (f.contains("description") && !f["description"].is_string() && !f["description"].is_null())
      throw invalid(where + ".description must be a string", t.param);
    if (f.contains("parameters") && !f["parameters"].is_object() && !f["parameters"].is_null())
      throw invalid(where + ".parameters must be a JSON Schema object", t.param);
    const std::string name = f["name"];
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw invalid(where + ".name '" + name + "' is defined twice", t.param);
    names.push_back(name);
  }
  if ((t.choice == Choice::kRequired || t.choice == Choice::kNamed) && t.functions.empty())
    throw invalid(t.choice_param + " asks for a tool call but no tools are given", t.choice_param);
  if (t.choice == Choice::kNamed && std::find(names.begin(), names.end(), t.named) == names.end())
    throw invalid(t.choice_param + " names '" + t.named + "', which is not among the tools",
                  t.choice_param);
}

// For templates that know no tools: the tools and the call syntax as a system message.
std::string tools_system_text(const Json& functions) {
  std::string s =
      "You can call these tools. To call tools, reply with only a JSON array of calls, "
      "[{\"name\": <tool name>, \"arguments\": <arguments object>}, ...], and nothing else.\n"
      "Tools:\n";
  for (const Json& f : functions) s += f.dump() + "\n";
  return s;
}

void add_system_text(Json& messages, const std::string& text) {
  if (messages.is_array() && !messages.empty() && messages[0].is_object() &&
      messages[0].value("role", "") == "system" && messages[0]["content"].is_string()) {
    messages[0]["content"] = messages[0]["content"].get<std::string>() + "\n\n" + text;
    return;
  }
  Json m = Json::object();
  m["role"] = "system";
  m["content"] = text;
  if (messages.is_array()) messages.insert(messages.begin(), std::move(m));
}

std::string rtrim(const std::string& s) {
  const size_t end = s.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? "" : s.substr(0, end + 1);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return !tail.empty() && s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Whether `text` holds a special token (Mistral's [THINK], Gemma 4's <|channel>): the
// detokenizer must keep those for the parser to see them.
bool has_special_token(const Tokenizer& tok, const std::string& text) {
  const EncodeOptions special{.add_special = false, .parse_special = true};
  for (int32_t id : tok.encode(text, special))
    if (tok.is_special(id)) return true;
  return false;
}

bool forces_calls(const ToolRequest& t) {
  return t.choice == Choice::kRequired || t.choice == Choice::kNamed;
}

// reasoning_effort: the template's variable where it reads one; a 400 otherwise, unless the
// request only hints at it.
void plan_effort(const ModelContext& ctx, const ThinkingRequest& th, Json& kwargs) {
  std::optional<std::string> effort = th.effort;
  if (!effort && ctx.harmony_prompt && th.enabled == false) effort = "low";
  if (!effort || kwargs.contains("reasoning_effort")) return;
  if (ctx.template_takes_effort || ctx.harmony_prompt) {
    kwargs["reasoning_effort"] = *effort;
  } else if (!th.effort_is_hint) {
    throw invalid(
        th.effort_param + ": this model's chat template takes no reasoning effort (gpt-oss's does)",
        th.effort_param);
  } else if (env::enabled(env::Switch::kDebug)) {
    std::fprintf(stderr, "sluice: debug: %s has no effect: the template takes no effort\n",
                 th.effort_param.c_str());
  }
}

std::shared_ptr<const parsers::ToolFormat> reasoning_format(const ModelContext& ctx) {
  if (ctx.tool_format.empty() || !ctx.template_knows_tools) return nullptr;
  std::shared_ptr<const parsers::ToolFormat> f = parsers::make_tool_format(ctx.tool_format);
  return f && f->reasoning_section() ? f : nullptr;
}

}  // namespace

OutputPlan plan_chat_output(const ModelContext& ctx, const OutputRequest& req,
                            ChatPromptInput& in) {
  OutputPlan plan;
  const ToolRequest& t = req.tools;
  check_tools(t);
  if (!t.functions.empty() && t.choice != Choice::kNone) {
    if (ctx.tool_format.empty())
      throw invalid(t.param + ": tool calling is off on this server (--tool-call-parser none)",
                    t.param);
    const std::string format = ctx.template_knows_tools ? ctx.tool_format : "json";
    plan.tool_format = parsers::make_tool_format(format);
    SLUICE_ASSERT(plan.tool_format != nullptr, "unknown tool-call format");
    plan.tool_spec.functions = t.functions;
    if (ctx.template_knows_tools) {
      Json tools = Json::array();
      for (const Json& f : t.functions)
        tools.push_back(Json{{"type", "function"}, {"function", f}});
      in.tools = std::move(tools);
    } else {
      add_system_text(in.messages, tools_system_text(t.functions));
    }
  }
  if (!plan.tool_format) plan.tool_format = reasoning_format(ctx);
  if (forces_calls(t) && req.format.kind != FormatRequest::Kind::kText)
    throw invalid(req.format.param + " cannot be combined with a " + t.choice_param +
                      " that forces a tool call",
                  req.format.param);
  // Thinking is on unless the request turns it off (as llama.cpp's server does): some templates
  // (QwQ's, DeepSeek-R1's) close the section in the prompt when enable_thinking is undefined.
  if (!in.kwargs.is_object()) in.kwargs = Json::object();
  if (!in.kwargs.contains("enable_thinking"))
    in.kwargs["enable_thinking"] = req.thinking.enabled.value_or(true);
  plan_effort(ctx, req.thinking, in.kwargs);
  plan.reasoning = ctx.reasoning_tags;
  return plan;
}

void apply_output_plan(ModelContext& ctx, const OutputRequest& req, OutputPlan& plan,
                       const std::string& prompt_text, EngineRequest& er) {
  const Tokenizer& tok = ctx.model->tokenizer();
  const EncodeOptions special{.add_special = false, .parse_special = true};
  // Formats whose markup is special tokens (<|python_tag|>, [TOOL_CALLS]) need them in the text.
  if (plan.tool_format && !plan.tool_format->markers().empty()) er.skip_special_tokens = false;

  // The grammar, if the output is constrained.
  std::string key, param;
  std::function<Result<structured::NodePtr>()> root;
  const ToolRequest& t = req.tools;
  if (req.format.kind == FormatRequest::Kind::kJsonObject) {
    key = "json_object";
    param = req.format.param;
    root = [] { return Result<structured::NodePtr>(structured::any_json_object()); };
  } else if (req.format.kind == FormatRequest::Kind::kJsonSchema) {
    key = "schema:" + req.format.schema.dump();
    param = req.format.param;
    root = [&] { return structured::json_schema(req.format.schema); };
  } else if (req.format.kind == FormatRequest::Kind::kGrammar) {
    key = req.format.grammar_key;
    param = req.format.param;
    root = req.format.grammar;
  } else if (forces_calls(t) && plan.tool_format) {
    std::optional<std::string> only;
    if (t.choice == Choice::kNamed) only = t.named;
    const int max_calls = t.parallel ? -1 : 1;
    key = "tools:" + plan.tool_format->name() + ":" + (only ? *only : "") + ":" +
          std::to_string(max_calls) + ":" + t.functions.dump();
    param = t.param;
    root = [&, only, max_calls] {
      return plan.tool_format->calls_grammar(plan.tool_spec, only, 1, max_calls);
    };
  }

  // The reasoning section: the template's tags, or the format's own (harmony's analysis channel).
  const std::optional<parsers::ReasoningSection> section =
      plan.tool_format ? plan.tool_format->reasoning_section() : std::nullopt;
  ReasoningControl& rc = er.reasoning;
  rc.budget = req.thinking.budget >= 0 ? req.thinking.budget : ctx.options.max_thinking_tokens;
  if (plan.reasoning) {
    const std::string tail = rtrim(prompt_text);
    if (ends_with(tail, plan.reasoning->close)) {
      plan.reasoning.reset();  // the template closed an empty section: thinking is off
    } else {
      plan.reasoning_starts_inside = ends_with(tail, plan.reasoning->open);
      rc.enabled = true;
      rc.starts_inside = plan.reasoning_starts_inside;
      rc.open_text = plan.reasoning->open;
      rc.close_text = plan.reasoning->close;
      rc.close_tokens = tok.encode("\n" + plan.reasoning->close + "\n\n", special);
      if (has_special_token(tok, plan.reasoning->open + plan.reasoning->close))
        er.skip_special_tokens = false;
    }
  } else if (section) {
    // A spent budget closes the section and opens the answer; under a grammar the close alone
    // (the grammar writes what follows).
    rc.enabled = true;
    rc.open_text = section->open;
    rc.close_text = section->close;
    rc.close_tokens = tok.encode(section->close + (root ? "" : section->answer), special);
  }

  if (!root) return;
  // Formats that frame every message wrap a response format in their answer message.
  if (section && req.format.kind != FormatRequest::Kind::kText) {
    key = plan.tool_format->name() + ":" + key;
    root = [inner = std::move(root), f = plan.tool_format]() -> Result<structured::NodePtr> {
      auto r = inner();
      if (!r) return r;
      return f->answer_grammar(*r);
    };
  }
  // After a reasoning section the output may start with whitespace.
  const bool after_reasoning = plan.reasoning && plan.reasoning_starts_inside;
  if (after_reasoning) {
    key = "ws+" + key;
    root = [inner = std::move(root)]() -> Result<structured::NodePtr> {
      auto r = inner();
      if (!r) return r;
      return structured::sequence({structured::whitespace(), *r});
    };
  }
  auto grammar = ctx.grammars.get(key, root);
  if (!grammar) throw invalid(param + ": " + grammar.error(), param);
  auto vocab = ctx.grammars.vocab(tok);
  er.constraint = [g = *grammar, vocab] { return std::make_unique<GrammarConstraint>(g, vocab); };
}

void configure_output_parsing(ModelContext& ctx) {
  const std::string source = ctx.chat_template ? ctx.chat_template->source() : "";
  const ServerOptions& o = ctx.options;
  ctx.template_knows_tools = source.find("tools") != std::string::npos;
  ctx.harmony_prompt = source.find("<|channel|>") != std::string::npos;
  ctx.template_takes_effort = source.find("reasoning_effort") != std::string::npos;
  if (o.tool_call_parser == "none")
    ctx.tool_format.clear();
  else if (o.tool_call_parser == "auto")
    ctx.tool_format = parsers::detect_tool_format(
        source, ctx.model->config().arch ? ctx.model->config().arch->name : "");
  else
    ctx.tool_format = o.tool_call_parser;
  // The reasoning markers the template writes (harmony's channels are the harmony format's).
  ctx.reasoning_tags.reset();
  if (o.reasoning_parser == "think")
    ctx.reasoning_tags = ReasoningTags{};
  else if (o.reasoning_parser == "auto" && !ctx.harmony_prompt)
    ctx.reasoning_tags = parsers::detect_reasoning_tags(source);
}

}  // namespace sluice::api
