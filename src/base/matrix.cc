#include "base/matrix.h"

#include <cmath>

namespace sopilot {

void NormalizeRows(FloatMatrix* m) {
  for (int i = 0; i < m->rows; ++i) {
    float* r = m->row(i);
    double ss = 0.0;
    for (int j = 0; j < m->cols; ++j) ss += static_cast<double>(r[j]) * r[j];
    double norm = std::sqrt(ss);
    if (norm <= 1e-12) continue;
    float inv = static_cast<float>(1.0 / norm);
    for (int j = 0; j < m->cols; ++j) r[j] *= inv;
  }
}

}  // namespace sopilot
