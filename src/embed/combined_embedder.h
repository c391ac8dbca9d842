// CombinedEmbedder: several embedders side by side, "a+b" by name.
//
// Each part's vector (already L2-normalised by the part) is scaled by its
// weight, the blocks are concatenated, and the whole is L2-normalised again,
// so that every part counts as its weight says whatever its dimension. A
// part that gives an all-zero vector (a still clip for motion-v1) simply
// adds nothing.
//
// Why: the measurements in doc/embedders.md show that no single embedder is
// best on both generated procedures (colours) and real footage (hands and
// learned appearance); "heuristic-v1+appearance-v1" keeps both.
//
// Thread safety: none; one instance per ingest (as its parts).
#pragma once

#include <memory>
#include <vector>

#include "embed/embedder.h"

namespace sopilot {

class CombinedEmbedder : public Embedder {
 public:
  struct Part {
    std::unique_ptr<Embedder> embedder;
    float weight = 1.0f;
  };
  // Two or more parts; the name joins theirs with '+'.
  explicit CombinedEmbedder(std::vector<Part> parts);

  std::string name() const override { return name_; }
  int dim() const override { return dim_; }
  Status Embed(const Clip& clip, float* out) override;

 private:
  std::vector<Part> parts_;
  std::string name_;
  int dim_ = 0;
};

}  // namespace sopilot
