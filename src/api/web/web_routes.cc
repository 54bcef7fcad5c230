// GET / (the chat page, index.html) and GET /{file} for its scripts and style sheet.
#include <httplib.h>

#include "api/http/routes.h"
#include "api/web/web_assets.h"

namespace sluice::api {

namespace {

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

std::string url_path(std::string_view name) {
  std::string path = "/";
  if (name != "index.html") path += name;
  return path;
}

// httplib matches a route as a regular expression: "/app.js" must not match "/appxjs".
std::string route_pattern(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

bool is_web_page_path(const std::string& path) {
  for (const WebAsset& asset : web_assets())
    if (path == url_path(asset.name)) return true;
  return false;
}

void register_web_routes(httplib::Server& server) {
  for (const WebAsset& asset : web_assets()) {
    server.Get(route_pattern(url_path(asset.name)),
               [asset](const httplib::Request&, httplib::Response& res) {
                 res.set_content(asset.bytes.data(), asset.bytes.size(),
                                 std::string(content_type(asset.name)));
                 // The files change with the binary: the browser asks again each time.
                 res.set_header("Cache-Control", "no-cache");
                 res.set_header("X-Content-Type-Options", "nosniff");
                 // Only our own files run; model output rendered as HTML cannot load anything.
                 res.set_header("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                "base-uri 'none'; frame-ancestors 'none'");
               });
  }
}

}  // namespace sluice::api
