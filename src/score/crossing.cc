#include "score/crossing.h"

namespace sopilot {

double CrossingTime(const std::vector<ClipSpan>& clips, int lo, int hi, const std::function<double(int)>& f,
                    double fallback) {
  auto centre = [&](int i) { return ClipCentre(clips[i]); };
  double prev = lo <= hi ? f(lo) : 0;
  for (int i = lo; i < hi; ++i) {
    double next = f(i + 1);
    if (prev >= 0 && next < 0) return centre(i) + (centre(i + 1) - centre(i)) * prev / (prev - next);
    prev = next;
  }
  return fallback;
}

}  // namespace sopilot
