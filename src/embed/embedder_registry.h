// The embedders a user can pick by name (`--embedder`, SOPILOT_EMBEDDER).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "embed/embedder.h"

namespace sopilot {

// The default: the Python original's features.
inline constexpr const char* kDefaultEmbedder = "heuristic-v1";

// Every name MakeEmbedder accepts, the default first.
std::vector<std::string> KnownEmbedders();

// A new embedder of that name; InvalidArgument naming the known ones
// otherwise. "vjepa2" reads its model from SOPILOT_VJEPA2_MODEL and is an
// InvalidArgument saying so when that is unset (there is no fallback: the
// default stays the default); "vjepa2:<hash>", the name its embedding files
// record, is accepted when the configured model has that hash.
Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name);

}  // namespace sopilot
