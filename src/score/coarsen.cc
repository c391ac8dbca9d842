#include "score/coarsen.h"

#include <algorithm>
#include <cmath>

namespace sopilot {

int CoarsenFactor(int64_t gold_clips, int64_t trainee_clips, int64_t max_pairs) {
  if (max_pairs <= 0) return 1;
  auto runs = [](int64_t n, int64_t k) { return (n + k - 1) / k; };
  int64_t k = 1;
  // Start near the answer, then step: the product of two ceilings is not
  // monotone enough in k for a closed form.
  const double pairs = static_cast<double>(std::max<int64_t>(gold_clips, 1)) * std::max<int64_t>(trainee_clips, 1);
  if (pairs > static_cast<double>(max_pairs)) {
    k = std::max<int64_t>(1, static_cast<int64_t>(std::floor(std::sqrt(pairs / static_cast<double>(max_pairs)))));
  }
  while (runs(gold_clips, k) * runs(trainee_clips, k) > max_pairs && k < std::max(gold_clips, trainee_clips)) ++k;
  return static_cast<int>(k);
}

EmbeddingSet Coarsened(const EmbeddingSet& set, int k) {
  if (k <= 1) return set;
  EmbeddingSet out;
  out.model = set.model;
  out.source = set.source;
  out.sampling = set.sampling;
  out.sampling.clip_seconds = set.sampling.clip_seconds + (k - 1) * set.sampling.clip_stride_sec;
  out.sampling.clip_stride_sec = k * set.sampling.clip_stride_sec;
  const int n = set.vectors.rows, dim = set.vectors.cols;
  const int runs = (n + k - 1) / k;
  out.vectors = FloatMatrix(runs, dim);
  out.clips.reserve(runs);
  for (int r = 0; r < runs; ++r) {
    const int first = r * k, last = std::min(n, first + k) - 1;
    float* v = out.vectors.row(r);
    std::fill(v, v + dim, 0.0f);
    for (int i = first; i <= last; ++i) {
      const float* src = set.vectors.row(i);
      for (int d = 0; d < dim; ++d) v[d] += src[d];
    }
    double norm = 0;
    for (int d = 0; d < dim; ++d) norm += static_cast<double>(v[d]) * v[d];
    norm = std::sqrt(norm);
    if (norm > 0) {
      for (int d = 0; d < dim; ++d) v[d] = static_cast<float>(v[d] / norm);
    }
    out.clips.push_back({r, set.clips[first].start_sec, set.clips[last].end_sec});
  }
  return out;
}

}  // namespace sopilot
