#include "embed/embedder_registry.h"

#include <cstdlib>

#include "embed/appearance_embedder.h"
#include "embed/combined_embedder.h"
#include "embed/heuristic_embedder.h"
#include "embed/model_manifest.h"
#include "embed/motion_embedder.h"
#include "embed/pose_embedder.h"
#include "embed/vjepa2_embedder.h"

namespace sopilot {
namespace {

// The manifest's names of the models each learned embedder runs.
constexpr const char* kPalmModel = "handdetect";
constexpr const char* kHandModel = "handlandmark-full";
constexpr const char* kBodyModel = "movenet-lightning";
constexpr const char* kAppearanceModel = "mobilenet_v2_mid";

Result<ModelManifest> LoadManifest(const EmbedderConfig& config, std::string_view embedder) {
  const std::string dir = config.models_dir.empty() ? DefaultModelsDir() : config.models_dir;
  auto manifest = ModelManifest::Load(dir);
  if (!manifest.ok()) {
    return manifest.status().WithMessage(std::string(embedder) + " needs the converted models: " +
                                         manifest.status().message());
  }
  return manifest;
}

// "vjepa2" with the configured model; "vjepa2:<hash>" (the name an
// embedding file records) only when that is the model configured.
Result<std::unique_ptr<Embedder>> MakeVJepa2(std::string_view name, const EmbedderConfig& config) {
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<VJepa2Embedder> e, VJepa2Embedder::Open(config.vjepa2_model));
  if (name != VJepa2Embedder::kName && name != e->name()) {
    return Status::InvalidArgument("embeddings of " + std::string(name) + " need that model, but " +
                                   VJepa2Embedder::kModelEnv + " is " + e->path() + " (" + e->name() + ")");
  }
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace

EmbedderConfig EmbedderConfig::FromEnvironment() {
  EmbedderConfig c;
  if (const char* d = std::getenv("SOPILOT_MODELS_DIR"); d && *d) c.models_dir = d;
  if (const char* v = std::getenv("SOPILOT_VJEPA2_MODEL"); v && *v) c.vjepa2_model = v;
  if (const char* a = std::getenv("SOPILOT_APPEARANCE_MODEL"); a && *a) c.appearance_model = a;
  return c;
}

std::vector<std::string> KnownEmbedders() {
  return {HeuristicEmbedder::kName, MotionEmbedder::kName, PoseEmbedder::kName, AppearanceEmbedder::kName,
          VJepa2Embedder::kName};
}

// "a+b+...": the parts of a combined embedder's name (empty for one name).
std::vector<std::string_view> CombinedParts(std::string_view name) {
  std::vector<std::string_view> parts;
  if (name.find('+') == std::string_view::npos) return parts;
  size_t start = 0;
  while (true) {
    const size_t plus = name.find('+', start);
    parts.push_back(name.substr(start, plus == std::string_view::npos ? std::string_view::npos : plus - start));
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  return parts;
}

bool IsKnownEmbedder(std::string_view name) {
  if (std::vector<std::string_view> parts = CombinedParts(name); !parts.empty()) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!IsKnownEmbedder(parts[i])) return false;
      for (size_t j = 0; j < i; ++j) {
        if (parts[j] == parts[i]) return false;
      }
    }
    return true;
  }
  for (const std::string& n : KnownEmbedders()) {
    if (n == name) return true;
  }
  // appearance-v1 with another backbone: "appearance-v1:<manifest model>".
  const std::string appearance = std::string(AppearanceEmbedder::kName) + ":";
  if (name.size() > appearance.size() && name.starts_with(appearance)) {
    return name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-.", appearance.size()) ==
           std::string_view::npos;
  }
  // vjepa2's recorded name: "vjepa2:" and 12 hex digits of its model's hash.
  const std::string_view prefix = "vjepa2:";
  return name.size() == prefix.size() + 12 && name.starts_with(prefix) &&
         name.find_first_not_of("0123456789abcdef", prefix.size()) == std::string_view::npos;
}

std::string KnownEmbedderList() {
  std::string known;
  for (const std::string& n : KnownEmbedders()) known += (known.empty() ? "" : ", ") + n;
  return known + ", or several joined with '+'";
}

Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name, const EmbedderConfig& config) {
  if (std::vector<std::string_view> parts = CombinedParts(name); !parts.empty()) {
    if (!IsKnownEmbedder(name)) {
      return Status::InvalidArgument("unknown embedder \"" + std::string(name) +
                                     "\": each part must be a known embedder, once (known: " +
                                     KnownEmbedderList() + ")");
    }
    std::vector<CombinedEmbedder::Part> made;
    for (std::string_view part : parts) {
      SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> e, MakeEmbedder(part, config));
      made.push_back({std::move(e), 1.0f});
    }
    return std::unique_ptr<Embedder>(new CombinedEmbedder(std::move(made)));
  }
  if (name == HeuristicEmbedder::kName) return std::unique_ptr<Embedder>(new HeuristicEmbedder);
  if (name == MotionEmbedder::kName) return std::unique_ptr<Embedder>(new MotionEmbedder);
  if (name == PoseEmbedder::kName) {
    SOPILOT_ASSIGN_OR_RETURN(ModelManifest manifest, LoadManifest(config, name));
    SOPILOT_ASSIGN_OR_RETURN(const ModelInfo* palm, manifest.Find(kPalmModel));
    SOPILOT_ASSIGN_OR_RETURN(const ModelInfo* hand, manifest.Find(kHandModel));
    SOPILOT_ASSIGN_OR_RETURN(const ModelInfo* body, manifest.Find(kBodyModel));
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<PoseEmbedder> e, PoseEmbedder::Open(palm->path, hand->path, body->path));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  const std::string appearance_prefix = std::string(AppearanceEmbedder::kName) + ":";
  if (name == AppearanceEmbedder::kName || (name.starts_with(appearance_prefix) && IsKnownEmbedder(name))) {
    SOPILOT_ASSIGN_OR_RETURN(ModelManifest manifest, LoadManifest(config, name));
    // Another backbone from the manifest (SOPILOT_APPEARANCE_MODEL, e.g.
    // centernet, or the name an embedding file recorded) is part of the
    // name, so its files never compare with the default's.
    std::string backbone = config.appearance_model.empty() ? kAppearanceModel : config.appearance_model;
    if (name != AppearanceEmbedder::kName) backbone = std::string(name.substr(appearance_prefix.size()));
    SOPILOT_ASSIGN_OR_RETURN(const ModelInfo* model, manifest.Find(backbone));
    const std::string recorded =
        backbone == kAppearanceModel ? std::string(AppearanceEmbedder::kName) : appearance_prefix + backbone;
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<AppearanceEmbedder> e, AppearanceEmbedder::Open(*model, recorded));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  if (name == VJepa2Embedder::kName || name.starts_with(std::string(VJepa2Embedder::kName) + ":")) {
    return MakeVJepa2(name, config);
  }
  return Status::InvalidArgument("unknown embedder \"" + std::string(name) + "\" (known: " + KnownEmbedderList() +
                                 ")");
}

}  // namespace sopilot
