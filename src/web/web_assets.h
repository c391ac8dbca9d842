// The web page's files (src/web/assets), compiled into the binary: the API
// server serves them at /ui with no file beside the binary, no CDN and no
// external font. app.js talks to the REST API with the user's token.
#pragma once

#include <string_view>
#include <vector>

namespace sopilot {

struct WebAsset {
  std::string_view name;          // "index.html", "app.js", ...
  std::string_view content_type;  // with charset
  std::string_view body;
};

// Every asset (generated from src/web/assets at build time).
const std::vector<WebAsset>& WebAssets();

// The asset named `name`, or nullptr.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace sopilot
