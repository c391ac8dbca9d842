#include "base/moving_median.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sopilot {

namespace {

// The buffer holds a window's values but its NaNs (which have no place in
// an order), sorted.
void Insert(std::vector<float>* buffer, float x) {
  if (!std::isnan(x)) buffer->insert(std::upper_bound(buffer->begin(), buffer->end(), x), x);
}
void Erase(std::vector<float>* buffer, float x) {
  if (std::isnan(x)) return;
  auto it = std::lower_bound(buffer->begin(), buffer->end(), x);
  if (it != buffer->end() && *it == x) buffer->erase(it);
}

}  // namespace

std::vector<float> MovingMedians(std::span<const float> values, std::span<const IndexWindow> windows) {
  const int n = static_cast<int>(values.size());
  std::vector<float> out;
  out.reserve(windows.size());
  std::vector<float> buffer;  // values[lo, hi), sorted
  int lo = 0, hi = 0;
  for (const IndexWindow& w : windows) {
    const int begin = std::clamp(w.begin, 0, n);
    const int end = std::clamp(w.end, 0, n);
    if (end <= begin) {
      out.push_back(0.0f);
      continue;
    }
    if (begin < lo || end < hi || begin >= hi) {  // stepped back, or past the buffer: start again
      buffer.clear();
      lo = hi = begin;
    }
    for (; hi < end; ++hi) Insert(&buffer, values[hi]);
    for (; lo < begin; ++lo) Erase(&buffer, values[lo]);
    out.push_back(buffer.empty() ? std::numeric_limits<float>::quiet_NaN() : buffer[buffer.size() / 2]);
  }
  return out;
}

}  // namespace sopilot
