#include "cli/model_catalog.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "cli/default_model.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_gguf(const fs::path& p) {
  return lower(p.extension().string()) == ".gguf";
}

bool is_mmproj(const fs::path& p) {
  return is_gguf(p) && lower(p.filename().string()).find("mmproj") != std::string::npos;
}

// Bytes on disk of a file, or of every file under a directory.
int64_t disk_bytes(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return static_cast<int64_t>(fs::file_size(p, ec));
  int64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  return total;
}

api::ModelSpec spec_of(std::string id, const fs::path& path, const fs::path& mmproj) {
  api::ModelSpec s{std::move(id), path.string(), mmproj.string(), disk_bytes(path)};
  if (!mmproj.empty()) s.bytes += disk_bytes(mmproj);
  return s;
}

// A sibling projector of DIR/STEM.gguf: mmproj-STEM.gguf, STEM.mmproj.gguf or STEM-mmproj.gguf.
fs::path sibling_mmproj(const fs::path& dir, const std::string& stem) {
  for (const std::string& name :
       {"mmproj-" + stem + ".gguf", stem + ".mmproj.gguf", stem + "-mmproj.gguf"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  }
  return {};
}

// A folder: a model directory (config.json), or a folder holding one GGUF model (and
// optionally one mmproj*.gguf). Empty path: neither.
Result<std::pair<fs::path, fs::path>> folder_model(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "config.json", ec)) return std::pair{dir, fs::path()};
  std::vector<fs::path> models, projectors;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (!f.is_regular_file(ec) || !is_gguf(f.path())) continue;
    (is_mmproj(f.path()) ? projectors : models).push_back(f.path());
  }
  if (models.empty()) return std::pair{fs::path(), fs::path()};
  if (models.size() > 1)
    return Status::error("serve", "--models-dir: " + dir.string() + " holds " +
                                      std::to_string(models.size()) +
                                      " GGUF models; a folder holds one (or give each a file)");
  if (projectors.size() > 1)
    return Status::error("serve", "--models-dir: " + dir.string() + " holds " +
                                      std::to_string(projectors.size()) + " mmproj files");
  return std::pair{models[0], projectors.empty() ? fs::path() : projectors[0]};
}

}  // namespace

std::string default_model_id(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::canonical(path, ec);  // models/default.gguf is a link
  if (ec) p = path;
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  return p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
}

Result<std::vector<api::ModelSpec>> scan_models_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::error("serve", "--models-dir " + dir + " is not a directory");
  std::vector<api::ModelSpec> out;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    const fs::path p = f.path();
    if (f.is_directory(ec)) {
      SLUICE_ASSIGN_OR_RETURN(auto found, folder_model(p));
      if (!found.first.empty())
        out.push_back(spec_of(p.filename().string(), found.first, found.second));
    } else if (f.is_regular_file(ec) && is_gguf(p) && !is_mmproj(p)) {
      const std::string stem = p.stem().string();
      out.push_back(spec_of(stem, p, sibling_mmproj(p.parent_path(), stem)));
    }
  }
  if (ec) return Status::error("serve", "--models-dir " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<api::ModelSpec>> model_catalog(const CatalogFlags& flags) {
  std::vector<api::ModelSpec> out;
  for (const std::string& m : flags.models) {
    const size_t eq = m.find('=');
    std::error_code ec;
    const bool named = eq != std::string::npos && eq > 0 && !fs::exists(m, ec) &&
                       m.substr(0, eq).find('/') == std::string::npos;
    const std::string path = named ? m.substr(eq + 1) : m;  // a missing file fails at its load
    out.push_back(spec_of(named ? m.substr(0, eq) : default_model_id(path), path, {}));
  }
  if (!flags.models_dir.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto found, scan_models_dir(flags.models_dir));
    out.insert(out.end(), found.begin(), found.end());
  }
  if (out.empty() && flags.models_dir.empty()) {  // the built-in default
    SLUICE_ASSIGN_OR_RETURN(std::string path, resolve_model_path(""));
    out.push_back(spec_of(default_model_id(path), path, {}));
  }
  if (out.empty())
    return Status::error("serve", "--models-dir " + flags.models_dir + " holds no models");
  if (out.size() == 1) {
    if (!flags.served_model_name.empty()) out[0].id = flags.served_model_name;
    if (!flags.mmproj.empty()) {
      out[0].mmproj = flags.mmproj;
      out[0].bytes += disk_bytes(flags.mmproj);
    }
  } else {
    if (!flags.served_model_name.empty())
      return Status::error("serve",
                           "--served-model-name names one model; with several, use "
                           "--model NAME=PATH");
    if (!flags.mmproj.empty())
      return Status::error("serve",
                           "--mmproj goes with one model; with several, put the "
                           "projector beside its model (mmproj-NAME.gguf)");
  }
  std::set<std::string> ids;
  for (const api::ModelSpec& s : out)
    if (!ids.insert(s.id).second)
      return Status::error("serve", "two models are named '" + s.id + "'");
  return out;
}

}  // namespace sluice
