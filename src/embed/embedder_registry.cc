#include "embed/embedder_registry.h"

#include "embed/heuristic_embedder.h"
#include "embed/motion_embedder.h"

namespace sopilot {

std::vector<std::string> KnownEmbedders() { return {HeuristicEmbedder::kName, MotionEmbedder::kName}; }

Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name) {
  if (name == HeuristicEmbedder::kName) return std::unique_ptr<Embedder>(new HeuristicEmbedder);
  if (name == MotionEmbedder::kName) return std::unique_ptr<Embedder>(new MotionEmbedder);
  std::string known;
  for (const std::string& n : KnownEmbedders()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown embedder \"" + std::string(name) + "\" (known: " + known + ")");
}

}  // namespace sopilot
