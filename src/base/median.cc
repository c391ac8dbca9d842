#include "base/median.h"

#include <algorithm>

namespace sopilot {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + h, v.end());
  const double upper = v[h];
  if (v.size() % 2 == 1) return upper;
  // After nth_element every value before h is at most v[h]: the lower
  // middle value is the largest of them.
  return 0.5 * (*std::max_element(v.begin(), v.begin() + h) + upper);
}

}  // namespace sopilot
