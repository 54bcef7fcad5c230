#include "api/responses/custom_tools.h"

#include "api/model_context.h"
#include "structured/lark_grammar.h"
#include "structured/text_match.h"

namespace sluice::api {

const CustomTool* CustomToolSet::find(const std::string& name) const {
  for (const CustomTool& t : tools)
    if (t.name == name) return &t;
  return nullptr;
}

Result<structured::NodePtr> CustomTool::root() const {
  if (syntax == "lark") return structured::lark_grammar(definition);
  return structured::full_regex(definition);
}

Json parse_custom_tool(const Json& t, size_t index, CustomTool& out, Json& function) {
  const std::string where = "tools[" + std::to_string(index) + "]";
  for (auto it = t.begin(); it != t.end(); ++it)
    if (it.key() != "type" && it.key() != "name" && it.key() != "description" &&
        it.key() != "format")
      throw invalid(where + "." + it.key() + " is not a field of a custom tool", where);
  const Json* name = json_field(t, "name");
  if (!name) throw invalid(where + ".name is required for a custom tool", where + ".name");
  out.name = json_string(*name, where + ".name");
  if (const Json* d = json_field(t, "description"))
    out.description = json_string(*d, where + ".description");
  Json format = {{"type", "text"}};
  const std::string fparam = where + ".format";
  if (const Json* f = json_field(t, "format")) {
    if (!f->is_object() || !f->contains("type") || !(*f)["type"].is_string())
      throw invalid(fparam + " must be an object with a 'type'", fparam);
    const std::string type = (*f)["type"];
    if (type == "grammar") {
      for (auto it = f->begin(); it != f->end(); ++it)
        if (it.key() != "type" && it.key() != "syntax" && it.key() != "definition")
          throw invalid(fparam + "." + it.key() + " is not a field of a grammar format", fparam);
      const Json* syntax = json_field(*f, "syntax");
      if (!syntax) throw invalid(fparam + ".syntax is required", fparam + ".syntax");
      out.syntax = json_string(*syntax, fparam + ".syntax");
      if (out.syntax != "lark" && out.syntax != "regex")
        throw invalid(fparam + ".syntax must be 'lark' or 'regex', got '" + out.syntax + "'",
                      fparam + ".syntax");
      const Json* def = json_field(*f, "definition");
      if (!def) throw invalid(fparam + ".definition is required", fparam + ".definition");
      out.definition = json_string(*def, fparam + ".definition");
      format = {{"type", "grammar"}, {"syntax", out.syntax}, {"definition", out.definition}};
    } else if (type != "text") {
      throw invalid(fparam + ".type must be 'text' or 'grammar', got '" + type + "'", fparam);
    } else if (f->size() != 1) {
      throw invalid(fparam + ": a text format takes no other field", fparam);
    }
  }
  out.param = fparam + ".definition";
  std::string described = out.description;
  if (!out.syntax.empty())
    described += (described.empty() ? "" : "\n\n") + std::string("The input must match this ") +
                 (out.syntax == "lark" ? "Lark grammar" : "regular expression") + ":\n" +
                 out.definition;
  function = Json{{"name", out.name},
                  {"description", described},
                  {"parameters",
                   {{"type", "object"},
                    {"properties", {{"input", {{"type", "string"}}}}},
                    {"required", Json::array({"input"})}}}};
  return Json{{"type", "custom"},
              {"name", out.name},
              {"description", out.description.empty() ? Json(nullptr) : Json(out.description)},
              {"format", std::move(format)}};
}

void compile_custom_tools(ModelContext& ctx, CustomToolSet& set) {
  for (CustomTool& t : set.tools) {
    if (t.syntax.empty()) continue;
    auto g = ctx.grammars.get(t.cache_key(), [&t] { return t.root(); });
    if (!g) throw invalid(t.param + ": invalid " + t.syntax + " grammar: " + g.error(), t.param);
    t.grammar = *g;
  }
}

std::string forced_tool_instructions(const CustomTool& t) {
  std::string s = "Reply with only the input for the tool '" + t.name + "', and nothing else.";
  if (!t.description.empty()) s += "\nThe tool: " + t.description;
  if (!t.syntax.empty())
    s += std::string("\nThe input must match this ") +
         (t.syntax == "lark" ? "Lark grammar" : "regular expression") + ":\n" + t.definition;
  return s;
}

std::optional<std::string> custom_input_from_arguments(const std::string& arguments) {
  Json args = Json::parse(arguments, nullptr, false);
  if (!args.is_object() || !args.contains("input") || !args["input"].is_string())
    return std::nullopt;
  return args["input"].get<std::string>();
}

bool custom_input_matches(const CustomTool& t, const std::string& input) {
  return !t.grammar || structured::grammar_matches(t.grammar, input);
}

}  // namespace sluice::api
