// FloatMatrix: a dense row-major float32 matrix, the currency between the
// embedding, alignment and scoring modules (one row per clip).
#pragma once

#include <cstddef>
#include <vector>

namespace sopilot {

struct FloatMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<float> data;  // rows * cols values, row-major

  FloatMatrix() = default;
  FloatMatrix(int r, int c) : rows(r), cols(c), data(static_cast<size_t>(r) * c, 0.0f) {}

  float* row(int i) { return data.data() + static_cast<size_t>(i) * cols; }
  const float* row(int i) const { return data.data() + static_cast<size_t>(i) * cols; }
  float& at(int i, int j) { return data[static_cast<size_t>(i) * cols + j]; }
  float at(int i, int j) const { return data[static_cast<size_t>(i) * cols + j]; }
  bool empty() const { return rows == 0; }
};

// Scales every row to unit L2 norm in place; rows with norm <= 1e-12 are left
// as they are (the original's rule).
void NormalizeRows(FloatMatrix* m);

}  // namespace sopilot
