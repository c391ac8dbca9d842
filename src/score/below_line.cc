#include "score/below_line.h"

#include <algorithm>

namespace sopilot {

std::vector<ClipStretch> StretchesBelowLine(const std::vector<double>& sims, double line, int min_clips) {
  const int n = static_cast<int>(sims.size());
  const int w = std::max(1, min_clips);
  std::vector<ClipStretch> out;
  if (n < w) return out;
  std::vector<double> prefix(n + 1, 0.0);
  for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + sims[i];
  auto mean = [&](int a, int b) { return (prefix[b + 1] - prefix[a]) / (b - a + 1); };
  auto keep = [&](int a, int b) {
    while (a <= b && sims[a] >= line) ++a;
    while (b >= a && sims[b] >= line) --b;
    if (b - a + 1 < w) return;
    const double m = mean(a, b);
    if (m < line) out.push_back({a, b, m});
  };
  int first = -1, last = -1;  // the stretch being merged
  for (int s = 0; s + w <= n; ++s) {
    if (mean(s, s + w - 1) >= line) continue;
    if (first >= 0 && s <= last + 1) {
      last = s + w - 1;
      continue;
    }
    if (first >= 0) keep(first, last);
    first = s;
    last = s + w - 1;
  }
  if (first >= 0) keep(first, last);
  return out;
}

}  // namespace sopilot
