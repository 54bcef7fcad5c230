// `sluice template`: renders a model's chat template for a conversation, like transformers'
// apply_chat_template(messages, tools=..., add_generation_prompt=..., tokenize=False, **kwargs).
// SLUICE_FIXED_DATE=YYYY-MM-DD pins strftime_now (reproducible output for tests).
#include "cli/template_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "common/env.h"
#include "tokenizer/chat_template/chat_template.h"
#include "tokenizer/chat_template/template_source.h"

namespace sluice {

namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  std::string tools;
  bool add_generation_prompt = false;
  std::string kwargs;
  int repeat = 0;  // hidden: render N times and print the timing to stderr (bench)
};

Result<nlohmann::ordered_json> read_json(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error("template", std::string("cannot read ") + what + " file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
  if (j.is_discarded())
    return Status::error("template", std::string(what) + " file " + path + " is not valid JSON");
  return j;
}

int run_template(const TemplateOptions& o) {
  if (o.model.empty()) return fail("[template] -m MODEL_OR_TEMPLATE is required");
  if (o.messages.empty()) return fail("[template] --messages FILE.json is required");
  auto messages = read_json(o.messages, "messages");
  if (!messages) return fail(messages.error());
  nlohmann::ordered_json msgs = *messages;
  if (msgs.is_object() && msgs.contains("messages")) msgs = msgs["messages"];
  if (!msgs.is_array()) return fail("[template] messages file must hold a JSON list of messages");
  nlohmann::ordered_json tools = nullptr;
  if (!o.tools.empty()) {
    auto t = read_json(o.tools, "tools");
    if (!t) return fail(t.error());
    tools = *t;
    if (!tools.is_array()) return fail("[template] tools file must hold a JSON list");
  }
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
  if (!o.kwargs.empty()) {
    kwargs = nlohmann::ordered_json::parse(o.kwargs, nullptr, false);
    if (kwargs.is_discarded() || !kwargs.is_object())
      return fail("[template] --kwargs must be a JSON object");
  }
  auto src = load_chat_template_source(o.model, !tools.is_null());
  if (!src) return fail(src.error());
  // transformers: render(messages=..., tools=..., documents=..., add_generation_prompt=...,
  // **special_tokens_map, **kwargs)
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = msgs;
  ctx["tools"] = tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = o.add_generation_prompt;
  for (auto it = src->special_tokens.begin(); it != src->special_tokens.end(); ++it)
    ctx[it.key()] = it.value();
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) ctx[it.key()] = it.value();

  ChatTemplateRenderOptions ropts;
  if (const std::string fixed = env::value(env::Switch::kFixedDate); !fixed.empty()) {
    ropts.fixed_now = parse_fixed_date(fixed);
    if (!ropts.fixed_now) return fail("[template] SLUICE_FIXED_DATE must be YYYY-MM-DD");
  }
  auto t0 = std::chrono::steady_clock::now();
  auto tpl = ChatTemplate::parse(src->source);
  if (!tpl) return fail(tpl.error());
  auto t1 = std::chrono::steady_clock::now();
  auto out = tpl->render(ctx, ropts);
  if (!out) return fail(out.error());
  if (o.repeat > 0) {
    auto r0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.repeat; ++i) {
      auto again = tpl->render(ctx, ropts);
      if (!again) return fail(again.error());
    }
    auto r1 = std::chrono::steady_clock::now();
    double parse_us = std::chrono::duration<double, std::micro>(t1 - t0).count();
    double render_us = std::chrono::duration<double, std::micro>(r1 - r0).count() / o.repeat;
    std::fprintf(stderr, "template: parse %.1f us, render %.2f us/render over %d renders\n",
                 parse_us, render_us, o.repeat);
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fflush(stdout);
  return 0;
}

void add_options(CLI::App* cmd, TemplateOptions* o) {
  cmd->add_option("-m,--model", o->model,
                  "Chat template: .jinja file, tokenizer_config.json, model directory or GGUF")
      ->required();
  cmd->add_option("--messages", o->messages, "JSON file with the OpenAI-style message list")
      ->required();
  cmd->add_option("--tools", o->tools, "JSON file with the tool definitions");
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt,
                "End with the assistant turn's opening");
  cmd->add_option("--kwargs", o->kwargs, "Extra template variables, a JSON object");
  cmd->add_option("--repeat", o->repeat, "Render N more times and print the time to stderr")
      ->group("");
}

}  // namespace

int template_command(int argc, char** argv) {
  CLI::App app{"Render a model's chat template", "sluice template"};
  TemplateOptions o;
  add_options(&app, &o);
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string("[template] ") + e.what());
  }
  return run_template(o);
}

Command register_template_command(CLI::App& app) {
  auto opts = std::make_shared<TemplateOptions>();
  CLI::App* cmd = app.add_subcommand("template", "Render a model's chat template for messages");
  add_options(cmd, opts.get());
  return {cmd, [opts] { return run_template(*opts); }};
}

}  // namespace sluice
