#include "api/openai/openai_params.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "api/openai/openai_output_params.h"
#include "common/env.h"

namespace sluice::api {

namespace {

bool debug_enabled() {
  static const bool on = env::enabled(env::Switch::kDebug);
  return on;
}

// ---------------------------------------------------------------- fields not supported yet

// Values of an unsupported field that change nothing (so clients sending defaults still work).
bool is_null(const Json& v) {
  return v.is_null();
}
bool null_or_empty_list(const Json& v) {
  return v.is_null() || (v.is_array() && v.empty());
}
bool null_or_none(const Json& v) {
  return v.is_null() || (v.is_string() && v == "none");
}
bool null_or_false(const Json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>());
}
bool null_or_empty_string(const Json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty());
}
bool text_modalities(const Json& v) {
  if (v.is_null()) return true;
  if (!v.is_array()) return false;
  return std::all_of(v.begin(), v.end(), [](const Json& m) { return m == "text"; });
}

struct Unsupported {
  const char* name;
  bool chat, completions;
  bool (*harmless)(const Json&);
  const char* what;
};

// Parameters that would change the output; they come with tool calling and structured output.
constexpr Unsupported kUnsupported[] = {
    {"functions", true, false, null_or_empty_list,
     "the legacy functions field is not supported; use tools"},
    {"function_call", true, false, null_or_none,
     "the legacy function_call field is not supported; use tool_choice"},
    {"prediction", true, false, is_null, "predicted outputs (prediction) are not supported"},
    {"audio", true, false, is_null, "audio output is not supported by this text-only model"},
    {"modalities", true, false, text_modalities, "only the \"text\" modality is supported"},
    {"web_search_options", true, false, is_null, "web search is not supported"},
    {"echo", false, true, null_or_false, "echo is not supported"},
    {"suffix", false, true, null_or_empty_string, "suffix (insertion) is not supported"},
};

// Fields read below, or accepted and ignored because they do not change the output.
constexpr const char* kCommonFields[] = {"model",
                                         "temperature",
                                         "top_p",
                                         "top_k",
                                         "min_p",
                                         "frequency_penalty",
                                         "presence_penalty",
                                         "repetition_penalty",
                                         "logit_bias",
                                         "seed",
                                         "stop",
                                         "stop_token_ids",
                                         "n",
                                         "max_tokens",
                                         "ignore_eos",
                                         "skip_special_tokens",
                                         "user",
                                         "stream",
                                         "stream_options",
                                         "cache_salt",
                                         "logprobs",
                                         "store",
                                         "metadata",
                                         "service_tier"};
constexpr const char* kChatFields[] = {"messages",
                                       "top_logprobs",
                                       "max_completion_tokens",
                                       "chat_template_kwargs",
                                       "add_generation_prompt",
                                       "tools",
                                       "tool_choice",
                                       "parallel_tool_calls",
                                       "enable_thinking",
                                       "thinking_budget",
                                       "reasoning_effort",
                                       "response_format"};
constexpr const char* kCompletionFields[] = {"prompt", "best_of", "response_format"};

void check_unsupported_and_unknown(const Json& body, OpenAIEndpoint ep) {
  const bool chat = ep == OpenAIEndpoint::kChat;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    bool known = listed(kCommonFields, key) ||
                 (chat ? listed(kChatFields, key) : listed(kCompletionFields, key));
    for (const Unsupported& u : kUnsupported) {
      if (key != u.name || !(chat ? u.chat : u.completions)) continue;
      if (!u.harmless(it.value())) throw invalid(u.what, u.name);
      known = true;
    }
    if (!known && debug_enabled())
      std::fprintf(stderr, "sluice: debug: ignoring unknown %s parameter '%s'\n",
                   chat ? "chat" : "completions", key.c_str());
  }
}

// ---------------------------------------------------------------- typed values

std::vector<int32_t> token_list(const Json& v, const std::string& name, int32_t vocab_size) {
  if (!v.is_array()) throw invalid(name + " must be a list of token ids", name);
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (const Json& t : v) {
    if (!t.is_number_integer()) throw invalid(name + " must be a list of token ids", name);
    const int64_t id = t.get<int64_t>();
    if (id < 0 || id >= vocab_size)
      throw invalid(name + ": token id " + std::to_string(id) + " is out of range [0, " +
                        std::to_string(vocab_size) + ")",
                    name);
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

std::vector<std::pair<int32_t, float>> parse_logit_bias(const Json& v) {
  if (!v.is_object())
    throw invalid("logit_bias must be an object mapping token ids to numbers", "logit_bias");
  std::vector<std::pair<int32_t, float>> bias;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    int32_t id = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size() || key.empty())
      throw invalid("logit_bias keys must be token ids, got '" + key + "'", "logit_bias");
    bias.emplace_back(id, json_float(it.value(), "logit_bias"));
  }
  return bias;
}

std::vector<std::string> parse_stop(const Json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) throw invalid("stop must be a string or a list of strings", "stop");
  std::vector<std::string> stop;
  for (const Json& s : v) {
    if (!s.is_string()) throw invalid("stop must be a string or a list of strings", "stop");
    stop.push_back(s.get<std::string>());
  }
  return stop;
}

// prompt: "text" | ["text"] | [ids] | [[ids]] (one prompt per request).
void parse_prompt(const Json& v, int32_t vocab_size, OpenAIRequest& r) {
  static const std::string kShape =
      "prompt must be a string, a list of one string, or a list of token ids";
  if (v.is_string()) {
    r.prompt_text = v.get<std::string>();
    return;
  }
  if (!v.is_array() || v.empty()) throw invalid(kShape, "prompt");
  if (v[0].is_string() || v[0].is_array()) {
    if (v.size() != 1) throw invalid("only one prompt per request is supported", "prompt");
    if (v[0].is_string()) {
      r.prompt_text = v[0].get<std::string>();
      return;
    }
  }
  const Json& ids = v[0].is_array() ? v[0] : v;
  r.prompt_tokens = token_list(ids, "prompt", vocab_size);
  if (r.prompt_tokens.empty()) throw invalid("the prompt is empty", "prompt");
  r.prompt_is_tokens = true;
}

}  // namespace

// ---------------------------------------------------------------- the request

OpenAIRequest parse_openai_request(const Json& body, OpenAIEndpoint endpoint, int32_t vocab_size) {
  check_unsupported_and_unknown(body, endpoint);
  const bool chat = endpoint == OpenAIEndpoint::kChat;
  OpenAIRequest r;
  r.endpoint = endpoint;
  r.output = parse_openai_output(body, chat);
  SamplingParams& p = r.params;
  const Json* v = nullptr;

  if ((v = json_field(body, "model"))) r.model = json_string(*v, "model");
  if (chat) {
    auto it = body.find("messages");
    if (it == body.end()) throw invalid("messages is required", "messages");
    r.messages = *it;  // chat_prompt checks the shape, naming "messages"
    if ((v = json_field(body, "chat_template_kwargs"))) {
      if (!v->is_object())
        throw invalid("chat_template_kwargs must be an object", "chat_template_kwargs");
      r.template_kwargs = *v;
    }
    if ((v = json_field(body, "add_generation_prompt")))
      r.add_generation_prompt = json_bool(*v, "add_generation_prompt");
  } else {
    v = json_field(body, "prompt");
    if (!v) throw invalid("prompt is required", "prompt");
    parse_prompt(*v, vocab_size, r);
  }

  // Sampling.
  if ((v = json_field(body, "temperature"))) p.temperature = json_float(*v, "temperature");
  if ((v = json_field(body, "top_p"))) p.top_p = json_float(*v, "top_p");
  if ((v = json_field(body, "top_k"))) p.top_k = json_int32(*v, "top_k");
  if ((v = json_field(body, "min_p"))) p.min_p = json_float(*v, "min_p");
  if ((v = json_field(body, "frequency_penalty")))
    p.frequency_penalty = json_float(*v, "frequency_penalty");
  if ((v = json_field(body, "presence_penalty")))
    p.presence_penalty = json_float(*v, "presence_penalty");
  if ((v = json_field(body, "repetition_penalty")))
    p.repetition_penalty = json_float(*v, "repetition_penalty");
  if ((v = json_field(body, "logit_bias"))) p.logit_bias = parse_logit_bias(*v);
  if ((v = json_field(body, "seed"))) {
    if (v->is_number_unsigned())
      p.seed = v->get<uint64_t>();
    else
      p.seed = static_cast<uint64_t>(json_int(*v, "seed"));  // negative seeds wrap
  }
  if ((v = json_field(body, "n"))) p.n = json_int32(*v, "n");
  if (!chat && (v = json_field(body, "best_of")) && json_int32(*v, "best_of") != p.n)
    throw invalid("best_of other than n is not supported", "best_of");

  // Stopping.
  if ((v = json_field(body, "stop"))) p.stop = parse_stop(*v);
  if ((v = json_field(body, "stop_token_ids")))
    p.stop_token_ids = token_list(*v, "stop_token_ids", vocab_size);
  if ((v = json_field(body, "ignore_eos"))) p.ignore_eos = json_bool(*v, "ignore_eos");
  // max_completion_tokens (the newer name) wins over max_tokens when both are given.
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (!chat && std::string(name) == "max_completion_tokens") continue;
    if ((v = json_field(body, name))) {
      p.max_tokens = json_int32(*v, name);
      r.max_tokens_field = name;
    }
  }

  // Logprobs: chat takes a bool plus top_logprobs; completions an int (alternatives per token).
  if (chat) {
    if ((v = json_field(body, "logprobs"))) r.logprobs = json_bool(*v, "logprobs");
    if ((v = json_field(body, "top_logprobs"))) {
      r.top_logprobs = json_int32(*v, "top_logprobs");
      if (r.top_logprobs < 0 || r.top_logprobs > 20)
        throw invalid("top_logprobs must be in [0, 20], got " + std::to_string(r.top_logprobs),
                      "top_logprobs");
      if (r.top_logprobs > 0 && !r.logprobs)
        throw invalid("top_logprobs requires logprobs to be true", "top_logprobs");
    }
  } else if ((v = json_field(body, "logprobs"))) {
    r.top_logprobs = json_int32(*v, "logprobs");
    r.logprobs = true;
  }
  if (r.logprobs) p.logprobs = r.top_logprobs;

  // Output and transport.
  if ((v = json_field(body, "skip_special_tokens")))
    r.skip_special_tokens = json_bool(*v, "skip_special_tokens");
  if ((v = json_field(body, "user"))) json_string(*v, "user");  // accepted, ignored
  if ((v = json_field(body, "cache_salt"))) r.cache_salt = json_string(*v, "cache_salt");
  if ((v = json_field(body, "stream"))) r.stream = json_bool(*v, "stream");
  if ((v = json_field(body, "stream_options"))) {
    if (!v->is_object()) throw invalid("stream_options must be an object", "stream_options");
    if (const Json* u = json_field(*v, "include_usage"))
      r.include_usage = json_bool(*u, "stream_options.include_usage");
  }

  // Ranges (the engine checks again); max_tokens is checked once its default is known.
  const int32_t max_tokens = p.max_tokens;
  p.max_tokens = 1;
  if (auto error = p.validate(vocab_size))
    throw engine_error(*error, openai_field(error->param, r, chat ? "messages" : "prompt"));
  p.max_tokens = max_tokens;
  if (!r.max_tokens_field.empty() && p.max_tokens < 1)
    throw invalid(r.max_tokens_field + " must be >= 1, got " + std::to_string(p.max_tokens),
                  r.max_tokens_field);
  return r;
}

std::string openai_field(const std::string& engine_param, const OpenAIRequest& r,
                         const std::string& prompt_param) {
  if (engine_param == "prompt") return prompt_param;
  if (engine_param == "logprobs")
    return r.endpoint == OpenAIEndpoint::kChat ? "top_logprobs" : "logprobs";
  if (engine_param == "max_tokens" && !r.max_tokens_field.empty()) return r.max_tokens_field;
  return engine_param;
}

void apply_default_max_tokens(OpenAIRequest& r, int64_t num_prompt_tokens, int64_t max_model_len,
                              int64_t kv_capacity_tokens, const std::string& prompt_param) {
  if (!r.max_tokens_field.empty()) return;
  if (num_prompt_tokens >= max_model_len)
    throw invalid("the prompt (" + std::to_string(num_prompt_tokens) +
                      " tokens) leaves no room for output in the context length of " +
                      std::to_string(max_model_len) + " tokens",
                  prompt_param);
  if (num_prompt_tokens >= kv_capacity_tokens)
    throw invalid("the prompt (" + std::to_string(num_prompt_tokens) +
                      " tokens) leaves no room for output in the KV cache capacity of " +
                      std::to_string(kv_capacity_tokens) + " tokens",
                  prompt_param);
  const int64_t room = std::min(max_model_len, kv_capacity_tokens) - num_prompt_tokens;
  r.params.max_tokens = static_cast<int32_t>(std::min<int64_t>(room, INT32_MAX));
}

}  // namespace sluice::api
