// Embedder: turns a clip's frames into one fixed-length vector.
//
// Implementations: HeuristicEmbedder ("heuristic-v1", 904 dimensions, the
// original's hand-made features). Learned embedders (V-JEPA2) plug in here.
#pragma once

#include <string>

#include "base/status.h"
#include "video/clip_windower.h"

namespace sopilot {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Stored with every embedding; two embeddings compare only under one name.
  virtual std::string name() const = 0;
  virtual int dim() const = 0;
  // Writes dim() floats for `clip` to `out`, L2-normalised (or all zero when
  // the features are all zero). Clips must arrive in order of start time: an
  // embedder may reuse per-frame work across overlapping clips.
  virtual Status Embed(const Clip& clip, float* out) = 0;
};

}  // namespace sopilot
