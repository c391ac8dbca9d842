#include "embed/combined_embedder.h"

#include <cmath>

namespace sopilot {

CombinedEmbedder::CombinedEmbedder(std::vector<Part> parts) : parts_(std::move(parts)) {
  for (const Part& p : parts_) {
    if (!name_.empty()) name_ += '+';
    name_ += p.embedder->name();
    dim_ += p.embedder->dim();
  }
}

Status CombinedEmbedder::Embed(const Clip& clip, float* out) {
  int at = 0;
  for (Part& p : parts_) {
    SOPILOT_RETURN_IF_ERROR(p.embedder->Embed(clip, out + at));
    for (int i = 0; i < p.embedder->dim(); ++i) out[at + i] *= p.weight;
    at += p.embedder->dim();
  }
  double norm = 0;
  for (int i = 0; i < dim_; ++i) norm += static_cast<double>(out[i]) * out[i];
  norm = std::sqrt(norm);
  if (norm > 1e-12) {
    for (int i = 0; i < dim_; ++i) out[i] = static_cast<float>(out[i] / norm);
  }
  return Status::Ok();
}

}  // namespace sopilot
