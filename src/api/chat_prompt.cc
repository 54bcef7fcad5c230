#include "api/chat_prompt.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "api/api_error.h"
#include "api/harmony_prompt.h"
#include "api/json_fields.h"
#include "api/media/image_loader.h"
#include "api/media/image_prompt.h"
#include "api/media/video_loader.h"
#include "common/env.h"
#include "common/profile.h"

namespace sluice::api {

namespace {

using Json = nlohmann::ordered_json;

// An image part's URL: OpenAI chat {type:"image_url", image_url:{url} | url} or Responses'
// {type:"input_image", image_url}; null when the part is not an image.
const Json* image_part_url(const Json& part, const std::string& type, const std::string& where) {
  if (type != "image_url" && type != "input_image") return nullptr;
  const Json* u = json_field(part, "image_url");
  if (u && u->is_object()) u = json_field(*u, "url");
  if (!u || !u->is_string())
    throw invalid(where + ".image_url must carry a url string", "messages");
  return u;
}

// A video part's URL: OpenAI chat {type:"video_url", video_url:{url} | url}; null when the part
// is not a video.
const Json* video_part_url(const Json& part, const std::string& type, const std::string& where) {
  if (type != "video_url") return nullptr;
  const Json* u = json_field(part, "video_url");
  if (u && u->is_object()) u = json_field(*u, "url");
  if (!u || !u->is_string())
    throw invalid(where + ".video_url must carry a url string", "messages");
  return u;
}

// "content": string | null | [{type:"text", text}] -> string (or null kept for tool-call turns).
// With image parts (collected into `images` when the model takes them), the list stays a list
// of {type:"text", text} and {type:"image"} in order, as vision templates read it; a video part
// is one {type:"video"} (a clip: Qwen2-VL's templates write its video placeholder) or one
// {type:"image"} per sampled frame (as vllm-mlx gives a video's frames to models that take only
// images).
Json normalize_content(const Json& content, size_t index, std::vector<ImagePart>* images,
                       const VideoLoader& load_video) {
  const std::string where = "messages[" + std::to_string(index) + "].content";
  if (content.is_string() || content.is_null()) return content;
  if (!content.is_array())
    throw invalid(where + " must be a string or a list of content parts", "messages");
  std::string text;
  Json parts = Json::array();
  bool has_image = false;
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      throw invalid(at + " must be an object with a 'type'", "messages");
    const std::string type = part["type"];
    if (const Json* url = image_part_url(part, type, at)) {
      if (!images)
        throw invalid(at + ": this model takes no images (serve a vision model with --mmproj)",
                      "messages");
      images->push_back({url->get_ref<const std::string&>(), at, {}, {}});
      parts.push_back(Json{{"type", "image"}});
      has_image = true;
      continue;
    }
    if (const Json* url = video_part_url(part, type, at)) {
      if (!images || !load_video)
        throw invalid(at + ": this model takes no images or video (serve a vision model with "
                           "--mmproj)",
                      "messages");
      LoadedVideo video = load_video(url->get<std::string>(), at);
      if (!video.inputs.empty() && video.inputs[0].is_video()) {  // one video part: its clips
        parts.push_back(Json{{"type", "video"}});
        images->push_back({"", at, std::move(video.inputs), std::move(video.labels)});
      } else {
        for (ImageInput& frame : video.inputs) {  // its frames, as images
          parts.push_back(Json{{"type", "image"}});
          images->push_back({"", at, {std::move(frame)}, {}});
        }
      }
      has_image = true;
      continue;
    }
    if (type != "text" && type != "input_text")
      throw invalid(at + ": content part type '" + type + "' is not supported by this model",
                    "messages");
    if (!part.contains("text") || !part["text"].is_string())
      throw invalid(at + ".text must be a string", "messages");
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
    parts.push_back(Json{{"type", "text"}, {"text", part["text"]}});
  }
  return has_image ? parts : Json(text);
}

// What the parts count as against --max-images: a clip its frames, anything else one.
size_t parts_counted(const std::vector<ImagePart>& parts) {
  size_t n = 0;
  for (const ImagePart& part : parts) n += part.loaded.empty() ? 1 : images_counted(part.loaded);
  return n;
}

// OpenAI tool_calls carry arguments as a JSON string; templates expect an object (as HF's
// transformers and vLLM pass them), so string arguments that parse are replaced by the object.
Json normalize_tool_calls(const Json& calls, size_t index) {
  if (!calls.is_array())
    throw invalid("messages[" + std::to_string(index) + "].tool_calls must be a list", "messages");
  Json out = calls;
  for (Json& c : out) {
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) continue;
    Json& f = c["function"];
    if (f.contains("arguments") && f["arguments"].is_string()) {
      Json args = parse_json_or_discarded(f["arguments"].get<std::string>());
      if (!args.is_discarded() && args.is_object()) f["arguments"] = std::move(args);
    }
  }
  return out;
}

// The date prompts show: the input's, SLUICE_FIXED_DATE (tests), or unset (today, local).
std::optional<std::tm> fixed_date(const ChatPromptInput& in) {
  static const std::optional<std::tm> fixed = [] {
    const std::string v = env::value(env::Switch::kFixedDate);
    return v.empty() ? std::nullopt : parse_fixed_date(v);
  }();
  return in.now ? in.now : fixed;
}

std::string prompt_date(const ChatPromptInput& in) {
  std::tm tm{};
  if (auto f = fixed_date(in)) {
    tm = *f;
  } else {
    const std::time_t now = std::time(nullptr);
    localtime_r(&now, &tm);
  }
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The harmony template's variables: reasoning_effort, model_identity (builtin_tools would need
// tools sluice does not run: a 400).
HarmonyPromptOptions harmony_options(const ChatPromptInput& in) {
  HarmonyPromptOptions o;
  o.date = prompt_date(in);
  o.add_generation_prompt = in.add_generation_prompt;
  if (!in.kwargs.is_object()) return o;
  if (const Json* e = json_field(in.kwargs, "reasoning_effort")) {
    if (!e->is_string() || (*e != "low" && *e != "medium" && *e != "high"))
      throw invalid(
          "chat_template_kwargs.reasoning_effort must be 'low', 'medium' or 'high', "
          "got " +
              e->dump(),
          "chat_template_kwargs");
    o.reasoning_effort = e->get<std::string>();
  }
  if (const Json* id = json_field(in.kwargs, "model_identity"))
    o.model_identity = json_string(*id, "chat_template_kwargs.model_identity");
  if (const Json* b = json_field(in.kwargs, "builtin_tools"); b && !(b->is_array() && b->empty()))
    throw invalid(
        "chat_template_kwargs.builtin_tools: built-in tools (browser, python) are not supported",
        "chat_template_kwargs");
  return o;
}

}  // namespace

// `in` by value: a request's messages (pictures as base64 among them) are moved here, not copied.
ChatPrompt build_chat_prompt(const ModelContext& ctx, ChatPromptInput in) {
  if (!ctx.chat_template)
    throw invalid("the model has no (usable) chat template; use /v1/completions", "messages");
  const Tokenizer& tok = ctx.model->tokenizer();
  ChatPrompt p;
  std::vector<ImagePart> parts;
  const VisionTower* vision = ctx.engine ? ctx.engine->vision() : nullptr;
  if (vision) {
    in.images = &parts;
    in.load_video = [&](const std::string& url, const std::string& where) {
      return load_video(ctx, url, where, parts_counted(parts));
    };
  }
  {
    profile::WallScope t(profile::enabled() ? "api render chat" : "");
    p.text = render_chat_text(ctx.harmony_prompt ? nullptr : ctx.chat_template.get(), in,
                              tok.bos_id() ? tok.token_text(*tok.bos_id()) : "",
                              tok.eos_id() ? tok.token_text(*tok.eos_id()) : "");
  }
  profile::WallScope t(profile::enabled() ? "api load media + tokenize" : "");
  if (parts.empty()) {
    p.tokens = tok.encode(p.text, EncodeOptions{.add_special = false, .parse_special = true});
  } else {
    if (static_cast<int64_t>(parts_counted(parts)) > ctx.options.max_images)
      throw too_many_images(parts_counted(parts), ctx.options.max_images);
    const ImagePromptFormat format = image_prompt_format(*vision, tok);
    std::vector<MediaRun> runs;  // what each marker the template wrote holds
    for (ImagePart& part : parts) {
      if (part.loaded.empty()) part.loaded.push_back(load_image(ctx, part.url, part.where));
      runs.push_back({part.loaded[0].is_video(), part.loaded.size(), std::move(part.labels)});
      for (ImageInput& im : part.loaded) p.images.push_back(std::move(im));
    }
    p.tokens = tokenize_with_images(p.text, format, tok, p.images, runs);
  }
  if (p.tokens.empty()) throw invalid("the rendered prompt is empty", "messages");
  return p;
}

std::string render_chat_text(const ChatTemplate* tpl, const ChatPromptInput& in,
                             const std::string& bos, const std::string& eos) {
  if (!in.messages.is_array() || in.messages.empty())
    throw invalid("messages must be a non-empty list", "messages");
  static const char* kRoles[] = {"system", "developer", "user", "assistant", "tool"};
  Json messages = Json::array();
  for (size_t i = 0; i < in.messages.size(); ++i) {
    const Json& m = in.messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw invalid(where + " must be an object", "messages");
    if (!m.contains("role") || !m["role"].is_string())
      throw invalid(where + ".role must be a string", "messages");
    const std::string role = m["role"];
    if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles))
      throw invalid(
          where + ".role '" + role + "' is not one of system, developer, user, assistant, tool",
          "messages");
    if (!m.contains("content") && role != "assistant")
      throw invalid(where + ".content is required", "messages");
    Json out = Json::object();  // m's fields in order, content normalized (not copied: pictures)
    for (auto it = m.begin(); it != m.end(); ++it)
      out[it.key()] = it.key() == "content"
                          ? normalize_content(it.value(), i, in.images, in.load_video)
                          : it.value();
    if (role == "developer") out["role"] = "system";  // templates know "system"
    // An assistant turn with only tool calls has null content; templates concatenate strings.
    if (!out.contains("content") || out["content"].is_null()) out["content"] = "";
    // Harmony keeps the arguments text as the client sent it.
    if (out.contains("tool_calls")) {
      Json calls = normalize_tool_calls(out["tool_calls"], i);
      if (tpl) out["tool_calls"] = std::move(calls);
    }
    messages.push_back(std::move(out));
  }
  if (!tpl) return render_harmony_prompt(messages, in.tools, harmony_options(in));
  Json context = Json::object();
  if (in.kwargs.is_object())
    for (auto it = in.kwargs.begin(); it != in.kwargs.end(); ++it) context[it.key()] = it.value();
  context["messages"] = std::move(messages);
  if (!in.tools.is_null()) context["tools"] = in.tools;
  context["add_generation_prompt"] = in.add_generation_prompt;
  context["bos_token"] = bos;
  context["eos_token"] = eos;
  ChatTemplateRenderOptions ropts;
  ropts.fixed_now = fixed_date(in);
  auto text = tpl->render(context, ropts);
  if (!text)
    throw invalid("the chat template failed on these messages: " + text.error(), "messages");
  return std::move(*text);
}

std::vector<int32_t> tokenize_prompt(const ModelContext& ctx, const std::string& text) {
  auto ids = ctx.model->tokenizer().encode(text, raw_prompt_encoding());
  if (ids.empty()) throw invalid("the prompt is empty", "prompt");
  return ids;
}

}  // namespace sluice::api
