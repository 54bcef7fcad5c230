#pragma once
// A model's chat template is a Jinja template run in Hugging Face's environment (jinja/):
//
//   auto tpl = ChatTemplate::parse(source);          // syntax errors: "[template] ... (line N)"
//   auto text = tpl->render(context);                // context: messages, tools, documents,
//                                                    // add_generation_prompt, bos_token, ...
// template_source.h finds the template and its special-token texts for a model.
#include "jinja/template.h"

namespace sluice {

using ChatTemplate = jinja::Template;
using ChatTemplateRenderOptions = jinja::RenderOptions;
using jinja::parse_fixed_date;

}  // namespace sluice
