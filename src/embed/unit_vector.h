// The last step of every embedder: a clip's features scaled to unit length,
// so that a dot product is a cosine. A vector of (near) zero length becomes
// all zeros: a clip with nothing in it resembles nothing.
#pragma once

#include <cmath>
#include <vector>

namespace sopilot {

// out[i] = v[i] / |v| for i < v.size(), computed in double.
inline void WriteUnitVector(const std::vector<double>& v, float* out) {
  double norm = 0;
  for (double x : v) norm += x * x;
  norm = std::sqrt(norm);
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(norm > 1e-12 ? v[i] / norm : 0.0);
}

}  // namespace sopilot
