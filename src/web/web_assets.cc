#include "web/web_assets.h"

namespace sopilot {

const WebAsset* FindWebAsset(std::string_view name) {
  for (const WebAsset& a : WebAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace sopilot
