#include "embed/embedder_registry.h"

#include <cstdlib>

#include "embed/heuristic_embedder.h"
#include "embed/motion_embedder.h"
#include "embed/vjepa2_embedder.h"

namespace sopilot {
namespace {

// "vjepa2" with the model SOPILOT_VJEPA2_MODEL names; "vjepa2:<hash>" (the
// name an embedding file records) only when that is the model configured.
Result<std::unique_ptr<Embedder>> MakeVJepa2(std::string_view name) {
  const char* env = std::getenv(VJepa2Embedder::kModelEnv);
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<VJepa2Embedder> e, VJepa2Embedder::Open(env ? env : ""));
  if (name != VJepa2Embedder::kName && name != e->name()) {
    return Status::InvalidArgument("embeddings of " + std::string(name) + " need that model, but " +
                                   VJepa2Embedder::kModelEnv + " is " + e->path() + " (" + e->name() + ")");
  }
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace

std::vector<std::string> KnownEmbedders() {
  return {HeuristicEmbedder::kName, MotionEmbedder::kName, VJepa2Embedder::kName};
}

Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name) {
  if (name == HeuristicEmbedder::kName) return std::unique_ptr<Embedder>(new HeuristicEmbedder);
  if (name == MotionEmbedder::kName) return std::unique_ptr<Embedder>(new MotionEmbedder);
  if (name == VJepa2Embedder::kName || name.starts_with(std::string(VJepa2Embedder::kName) + ":")) {
    return MakeVJepa2(name);
  }
  std::string known;
  for (const std::string& n : KnownEmbedders()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown embedder \"" + std::string(name) + "\" (known: " + known + ")");
}

}  // namespace sopilot
