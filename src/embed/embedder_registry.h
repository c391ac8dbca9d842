// The embedders a user can pick by name (`--embedder`, SOPILOT_EMBEDDER).
//
// heuristic-v1 and motion-v1 are computed by hand and need nothing else.
// The learned ones run networks through OpenCV DNN: pose-v1 and
// appearance-v1 read the models scripts/install-models.sh converted into
// the models directory (embed/model_manifest.h); vjepa2 reads a V-JEPA2
// encoder the user exported (SOPILOT_VJEPA2_MODEL, doc/embedders.md).
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

// Where the learned embedders find their models.
struct EmbedderConfig {
  std::string models_dir;    // the converted models; empty = DefaultModelsDir()
  std::string vjepa2_model;  // an exported V-JEPA2 encoder; empty = none
  // appearance-v1's backbone, a manifest model with one pooled output;
  // empty = mobilenet_v2_mid. Another one is named "appearance-v1:<model>".
  std::string appearance_model;
  // How many sampled frames appearance-v1 runs at once, each on a copy of
  // its network; 0 = as many as OpenCV has threads (at most 4). The vectors
  // do not depend on it; 1 is the one-at-a-time baseline of
  // bench/embedder_bench.
  int parallel_frames = 0;

  // SOPILOT_MODELS_DIR, SOPILOT_VJEPA2_MODEL and SOPILOT_APPEARANCE_MODEL.
  static EmbedderConfig FromEnvironment();
};

// Every name MakeEmbedder accepts, the default first.
std::vector<std::string> KnownEmbedders();
// One of KnownEmbedders(), a name vjepa2 records ("vjepa2:<12 hex>"), or
// a combination of known ones "a+b", each at most once, a part optionally
// weighted "a*W+b" (embed/combined_embedder.h; kEmbedderWeightRule).
bool IsKnownEmbedder(std::string_view name);
// The same check with its reason: Ok, or InvalidArgument saying what is
// wrong with the name (an unknown part, a part twice, a bad weight and how
// to write it).
Status CheckEmbedderName(std::string_view name);
// How a part's weight is written, for messages.
inline constexpr const char* kEmbedderWeightRule =
    "a weight is a decimal number above 0 and at most 100, with at most 3 decimals and no trailing zeros, "
    "and weight 1 is left out: heuristic-v1*0.5+appearance-v1";
// "heuristic-v1, motion-v1, ...", for messages.
std::string KnownEmbedderList();

// A new embedder of that name, its models loaded and checked. Errors:
// InvalidArgument naming the known ones for an unknown name (with
// CheckEmbedderName's reason for a combination or a weight); for a learned
// embedder, the model manifest's or DnnModel's error (NotFound with the
// command that installs the models, Corruption, Unsupported), or
// FailedPrecondition-like InvalidArgument for vjepa2 without a model file
// (there is no fallback: the default stays the default). "vjepa2:<hash>",
// the name vjepa2's embedding files record, is accepted when the configured
// model has that hash, and refused naming both otherwise.
// Loading a learned embedder costs up to a second: make one per ingest, not
// per clip.
Result<std::unique_ptr<Embedder>> MakeEmbedder(std::string_view name,
                                               const EmbedderConfig& config = EmbedderConfig::FromEnvironment());

}  // namespace sopilot
