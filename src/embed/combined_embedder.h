// CombinedEmbedder: several embedders side by side, "a+b" by name.
//
// Each part's vector (already L2-normalised by the part) is scaled by its
// weight, the blocks are concatenated, and the whole is L2-normalised again,
// so that every part counts as its weight says whatever its dimension. A
// part that gives an all-zero vector (a still clip for motion-v1) simply
// adds nothing.
//
// Weights by name: a part is followed by '*' and its weight, e.g.
// "heuristic-v1*0.5+appearance-v1" (heuristic-v1 weighted 0.5, appearance-v1
// 1). '*' binds to the one part it follows and appears in no embedder's own
// name, so the name reads one way only. A weight is a decimal number above 0
// and at most 100, with at most 3 decimals, written without trailing zeros,
// and weight 1 is written by leaving "*1" out: each weighting has exactly one
// name (the registry refuses "*0.50" or "*1" with the spelling to use, and
// zero, negative, "nan", "inf", "1e3" or above 100 as not a weight). The
// name, weights included, is what embedding files record, so files made
// with different weights never compare. Only the ratios of the weights
// matter after the renormalisation ("a*2+b" gives the vectors of
// "a+b*0.5"), but the two names differ and their files do not compare.
// Quote the name in a shell: '*' is a glob character.
//
// Why: the measurements in doc/embedders.md show that no single embedder is
// best on both generated procedures (colours) and real footage (hands and
// learned appearance); "heuristic-v1+appearance-v1" keeps both.
//
// Thread safety: none; one instance per ingest (as its parts).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "embed/embedder.h"

namespace sopilot {

class CombinedEmbedder : public Embedder {
 public:
  struct Part {
    std::unique_ptr<Embedder> embedder;
    float weight = 1.0f;
  };
  // Two or more parts, each weight above 0 and at most 100 in steps of
  // 0.001 (as the registry parses them); the name joins the parts' with
  // '+', each weight other than 1 written after its part as "*" +
  // WeightText(weight).
  explicit CombinedEmbedder(std::vector<Part> parts);

  // A weight as a name writes it: thousandths, trailing zeros dropped
  // ("0.5", "0.35", "2").
  static std::string WeightText(float weight);

  std::string name() const override { return name_; }
  int dim() const override { return dim_; }
  Status Embed(const Clip& clip, float* out) override;

 private:
  std::vector<Part> parts_;
  std::string name_;
  int dim_ = 0;
};

}  // namespace sopilot
