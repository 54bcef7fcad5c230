#pragma once
// The chat page's files (src/api/web/*.html, *.js, *.css), compiled in by
// cmake/embed_web_assets.cmake: the server needs no files at run time.
#include <span>
#include <string_view>

namespace sluice::api {

struct WebAsset {
  std::string_view name;  // the file's name, e.g. "app.js"
  std::string_view bytes;
};

std::span<const WebAsset> web_assets();

}  // namespace sluice::api
