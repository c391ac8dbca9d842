// Test helpers for the align module: toy sequences, random embeddings, and
// brute-force optima to check the DPs against.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "base/matrix.h"

namespace sopilot::align_test {

// One one-hot row of width `dims` per label.
inline FloatMatrix OneHotSequence(const std::vector<int>& labels, int dims) {
  FloatMatrix m(static_cast<int>(labels.size()), dims);
  for (size_t i = 0; i < labels.size(); ++i) m.at(static_cast<int>(i), labels[i]) = 1.0f;
  return m;
}

// Gaussian rows, L2-normalised.
inline FloatMatrix RandomUnitRows(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  FloatMatrix m(rows, cols);
  for (float& v : m.data) v = normal(rng);
  NormalizeRows(&m);
  return m;
}

// Uniform costs in [lo, hi); with levels > 0, rounded to that many steps so
// that ties are common.
inline FloatMatrix RandomCost(int rows, int cols, unsigned seed, int levels = 0,
                              float lo = 0.f, float hi = 2.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  FloatMatrix m(rows, cols);
  for (float& v : m.data) {
    v = u(rng);
    if (levels > 0) v = lo + std::round((v - lo) / (hi - lo) * levels) * (hi - lo) / levels;
  }
  return m;
}

// Minimum total cost over every monotone path (steps (1,1), (1,0), (0,1))
// from (0, j0) to (rows-1, j1), enumerated one by one. j0 is 0 unless
// open_begin (then any), j1 is cols-1 unless open_end (then any).
inline double BruteForceDtw(const FloatMatrix& c, bool open_begin = false, bool open_end = false) {
  double best = std::numeric_limits<double>::infinity();
  std::function<void(int, int, double)> walk = [&](int i, int j, double sum) {
    sum += c.at(i, j);
    if (i == c.rows - 1 && (open_end || j == c.cols - 1)) best = std::min(best, sum);
    if (i + 1 < c.rows && j + 1 < c.cols) walk(i + 1, j + 1, sum);
    if (i + 1 < c.rows) walk(i + 1, j, sum);
    if (j + 1 < c.cols) walk(i, j + 1, sum);
  };
  for (int j0 = 0; j0 < (open_begin ? c.cols : 1); ++j0) walk(0, j0, 0.0);
  return best;
}

// Minimum over every choice of dropped gold rows and trainee columns of
// (plain DTW of the kept sub-matrix) + drop costs; both kept parts must be
// empty or both non-empty.
inline double BruteForceDropDtw(const FloatMatrix& c, double gold_drop, double trainee_drop) {
  double best = std::numeric_limits<double>::infinity();
  for (unsigned gm = 0; gm < (1u << c.rows); ++gm) {
    for (unsigned tm = 0; tm < (1u << c.cols); ++tm) {
      std::vector<int> gi, tj;
      for (int i = 0; i < c.rows; ++i) if (gm >> i & 1u) gi.push_back(i);
      for (int j = 0; j < c.cols; ++j) if (tm >> j & 1u) tj.push_back(j);
      // (0 * inf would be NaN: only charge sides that drop something.)
      const int gold_dropped = c.rows - static_cast<int>(gi.size());
      const int trainee_dropped = c.cols - static_cast<int>(tj.size());
      const double drops = (gold_dropped ? gold_dropped * gold_drop : 0.0) +
                           (trainee_dropped ? trainee_dropped * trainee_drop : 0.0);
      if (gi.empty() != tj.empty()) continue;
      if (gi.empty()) { best = std::min(best, drops); continue; }
      FloatMatrix sub(static_cast<int>(gi.size()), static_cast<int>(tj.size()));
      for (size_t a = 0; a < gi.size(); ++a)
        for (size_t b = 0; b < tj.size(); ++b)
          sub.at(static_cast<int>(a), static_cast<int>(b)) = c.at(gi[a], tj[b]);
      best = std::min(best, BruteForceDtw(sub) + drops);
    }
  }
  return best;
}

}  // namespace sopilot::align_test
