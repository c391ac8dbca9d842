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

namespace {

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

// "name" in quotes, for messages. (Appending, not "\"" + std::string(...):
// GCC 12 warns wrongly of overlapping memcpy (-Wrestrict) on that form.)
std::string Quoted(std::string_view text) {
  std::string q = "\"";
  q += text;
  q += '"';
  return q;
}

// One part of a combined name: "heuristic-v1" (weight 1) or
// "heuristic-v1*0.5". A weight has one spelling only (see
// kEmbedderWeightRule), so that a name and its embeddings correspond one to
// one: "a*0.50+b" or "a*1+b" is refused with the spelling to use.
struct WeightedPart {
  std::string_view name;
  float weight = 1.0f;
};

Result<WeightedPart> ParseWeightedPart(std::string_view part) {
  const size_t star = part.find('*');
  if (star == std::string_view::npos) return WeightedPart{part, 1.0f};
  const std::string_view name = part.substr(0, star);
  const std::string_view w = part.substr(star + 1);
  const std::string quoted = Quoted(part);
  const std::string rule = std::string(" (") + kEmbedderWeightRule + ")";
  if (name.empty()) return Status::InvalidArgument("the weight in " + quoted + " has no embedder before '*'");
  if (w.find('*') != std::string_view::npos) {
    return Status::InvalidArgument(quoted + " has more than one '*': one weight per part" + rule);
  }
  // Digits, then optionally '.' and digits: no sign, exponent, "nan", "inf".
  const size_t dot = w.find('.');
  const std::string_view whole = w.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : w.substr(dot + 1);
  const auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(whole) || (dot != std::string_view::npos && !digits(frac))) {
    return Status::InvalidArgument(Quoted(w) + " in " + quoted + " is not a weight" + rule);
  }
  if (whole.size() > 3) return Status::InvalidArgument("the weight in " + quoted + " is too large" + rule);
  if (frac.size() > 3) return Status::InvalidArgument("the weight in " + quoted + " has more than 3 decimals" + rule);
  // In thousandths, exactly.
  int thousandths = 0;
  for (char c : whole) thousandths = thousandths * 10 + (c - '0');
  thousandths *= 1000;
  int scale = 100;
  for (char c : frac) {
    thousandths += (c - '0') * scale;
    scale /= 10;
  }
  if (thousandths == 0) return Status::InvalidArgument("the weight in " + quoted + " is zero" + rule);
  if (thousandths > 100 * 1000) return Status::InvalidArgument("the weight in " + quoted + " is too large" + rule);
  if (thousandths == 1000) {
    return Status::InvalidArgument("write " + Quoted(name) + " rather than " + quoted +
                                   ": weight 1 is written by leaving it out");
  }
  const std::string canonical = CombinedEmbedder::WeightText(static_cast<float>(thousandths) / 1000.0f);
  if (canonical != w) {
    return Status::InvalidArgument("write " + Quoted(std::string(name) + "*" + canonical) + " rather than " + quoted +
                                   ": a weight has one spelling, so that equal embeddings have one name");
  }
  return WeightedPart{name, static_cast<float>(thousandths) / 1000.0f};
}

}  // namespace

Status CheckEmbedderName(std::string_view name) {
  const std::string quoted = Quoted(name);
  std::vector<std::string_view> parts = CombinedParts(name);
  if (parts.empty()) {
    if (name.find('*') != std::string_view::npos) {
      return Status::InvalidArgument("embedder " + quoted +
                                     ": a weight ('*') is for a part of a combination \"a*W+b\" only");
    }
    if (IsKnownEmbedder(name)) return Status::Ok();
    return Status::InvalidArgument("unknown embedder " + quoted + " (known: " + KnownEmbedderList() + ")");
  }
  std::vector<std::string_view> seen;
  for (std::string_view part : parts) {
    auto parsed = ParseWeightedPart(part);
    if (!parsed.ok()) return parsed.status().WithMessage("embedder " + quoted + ": " + parsed.status().message());
    if (!IsKnownEmbedder(parsed->name)) {
      return Status::InvalidArgument("unknown embedder " + quoted + ": each part must be a known embedder, once (known: " +
                                     KnownEmbedderList() + ")");
    }
    for (std::string_view s : seen) {
      if (s == parsed->name) {
        return Status::InvalidArgument("unknown embedder " + quoted + ": " + std::string(s) +
                                       " is a part twice; each part must be a known embedder, once");
      }
    }
    seen.push_back(parsed->name);
  }
  return Status::Ok();
}

bool IsKnownEmbedder(std::string_view name) {
  if (name.find('+') != std::string_view::npos || name.find('*') != std::string_view::npos) {
    return CheckEmbedderName(name).ok();
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
  return known + ", or several joined with '+', a part weighted with '*W' (e.g. heuristic-v1*0.5+appearance-v1)";
}

Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name, const EmbedderConfig& config) {
  if (name.find('+') != std::string_view::npos || name.find('*') != std::string_view::npos) {
    SOPILOT_RETURN_IF_ERROR(CheckEmbedderName(name));
    std::vector<CombinedEmbedder::Part> made;
    for (std::string_view part : CombinedParts(name)) {
      SOPILOT_ASSIGN_OR_RETURN(WeightedPart p, ParseWeightedPart(part));
      SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> e, MakeEmbedder(p.name, config));
      made.push_back({std::move(e), p.weight});
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
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<AppearanceEmbedder> e, AppearanceEmbedder::Open(*model, recorded, config.parallel_frames));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  if (name == VJepa2Embedder::kName || name.starts_with(std::string(VJepa2Embedder::kName) + ":")) {
    return MakeVJepa2(name, config);
  }
  return Status::InvalidArgument("unknown embedder \"" + std::string(name) + "\" (known: " + KnownEmbedderList() +
                                 ")");
}

}  // namespace sopilot
