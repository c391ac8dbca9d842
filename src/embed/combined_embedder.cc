#include "embed/combined_embedder.h"

#include <cmath>
#include <cstdio>

namespace sopilot {

std::string CombinedEmbedder::WeightText(float weight) {
  const long thousandths = std::lround(static_cast<double>(weight) * 1000.0);
  std::string text = std::to_string(thousandths / 1000);
  if (thousandths % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03ld", thousandths % 1000);
    text += frac;
    while (text.back() == '0') text.pop_back();
  }
  return text;
}

CombinedEmbedder::CombinedEmbedder(std::vector<Part> parts) : parts_(std::move(parts)) {
  for (const Part& p : parts_) {
    if (!name_.empty()) name_ += '+';
    name_ += p.embedder->name();
    if (p.weight != 1.0f) {
      name_ += '*';
      name_ += WeightText(p.weight);
    }
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
