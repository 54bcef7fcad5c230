#include "cli/serve_profiles.h"

#include <set>

namespace sluice {

const std::vector<ServeProfile>& serve_profiles() {
  static const std::vector<ServeProfile> kProfiles = {
      {"agent",
       "coding agents (Claude Code, Codex): a quarter of RAM for KV so long prompts stay in the "
       "prefix cache, 2,048-token prefill steps, tool calls and reasoning parsed from the "
       "template, no output cap",
       {"--kv-cache-memory", "0.25", "--max-num-batched-tokens", "2048", "--tool-call-parser",
        "auto", "--reasoning-parser", "auto", "--max-output-tokens", "0"}},
      {"deterministic",
       "batch-invariant execution: a request's tokens do not depend on what else runs",
       {"--deterministic"}},
      {"throughput",
       "many concurrent clients: 256 sequences at once, 30% of RAM for KV",
       {"--max-num-seqs", "256", "--kv-cache-memory", "0.3"}},
      {"json",
       "structured output: no reasoning section in the text, batch-invariant so a schema's "
       "answer repeats",
       {"--reasoning-parser", "none", "--deterministic"}},
      {"multimodal",
       "images in: 1 GiB of encoder cache, up to 32 images per request",
       {"--encoder-cache-memory", "1GiB", "--max-images", "32"}},
      {"low-memory",
       "small machines: 256 MiB of KV, 8 sequences, one model loaded, idle models unloaded "
       "after 5 minutes",
       {"--kv-cache-memory", "256MiB", "--max-num-seqs", "8", "--max-loaded-models", "1",
        "--idle-unload", "300"}},
  };
  return kProfiles;
}

namespace {

std::string flag_name(const std::string& arg) {
  return arg.substr(0, arg.find('='));
}

}  // namespace

Result<std::vector<std::string>> apply_serve_profile(const std::vector<std::string>& args) {
  std::string name;
  std::set<std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) != 0) continue;
    given.insert(flag_name(args[i]));
    if (args[i] == "--profile" && i + 1 < args.size()) name = args[i + 1];
    if (args[i].rfind("--profile=", 0) == 0) name = args[i].substr(10);
  }
  if (name.empty()) return args;
  for (const ServeProfile& p : serve_profiles()) {
    if (p.name != name) continue;
    std::vector<std::string> out = args;
    for (size_t i = 0; i < p.args.size(); ++i) {
      const bool takes_value = i + 1 < p.args.size() && p.args[i + 1].rfind("--", 0) != 0;
      if (!given.count(p.args[i])) {
        out.push_back(p.args[i]);
        if (takes_value) out.push_back(p.args[i + 1]);
      }
      if (takes_value) ++i;
    }
    return out;
  }
  std::string names;
  for (const ServeProfile& p : serve_profiles()) names += (names.empty() ? "" : ", ") + p.name;
  return Status::error("serve", "--profile " + name + ": no such profile (" + names + ")");
}

}  // namespace sluice
