// AlignedPair and Alignment: what the aligners return, one matched
// (gold clip, trainee clip) pair per path cell.
#pragma once

#include <vector>

namespace sopilot {

struct AlignedPair {
  int gold = 0;            // gold clip index
  int trainee = 0;         // trainee clip index
  float similarity = 0.f;  // 1 - cost of the pair (cosine similarity)
};

struct Alignment {
  // Monotone path, first cell first: both indices never decrease and each
  // step advances gold, trainee or both by one.
  std::vector<AlignedPair> path;
  double total_cost = 0.0;  // sum of the path cells' costs (D at the end cell)
  double mean_cost = 0.0;   // total_cost / path.size()
};

}  // namespace sopilot
