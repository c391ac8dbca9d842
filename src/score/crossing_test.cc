#include "score/crossing.h"

#include <gtest/gtest.h>

#include <vector>

namespace sopilot {
namespace {

std::vector<ClipSpan> Clips(int n) {
  std::vector<ClipSpan> c;
  for (int i = 0; i < n; ++i) c.push_back({i, 0.5 * i, 0.5 * i + 2.0});  // centres 1.0, 1.5, ...
  return c;
}

double Cross(const std::vector<double>& f, double fallback = -1) {
  return CrossingTime(Clips(static_cast<int>(f.size())), 0, static_cast<int>(f.size()) - 1,
                      [&](int i) { return f[i]; }, fallback);
}

TEST(CrossingTimeTest, OneCrossingIsInterpolatedBetweenClipCentres) {
  // Centres 1.0 .. 3.0; f goes 0.3 -> -0.1 between 2.0 and 2.5.
  EXPECT_DOUBLE_EQ(Cross({0.5, 0.4, 0.3, -0.1, -0.6}), 2.0 + 0.5 * 0.3 / 0.4);
}

TEST(CrossingTimeTest, TheFirstCrossingCounts) {
  // A dip below zero at 2.0 that comes back: the first crossing is taken
  // (a best split over the window was tried and not adopted, doc/scoring-tried.md).
  EXPECT_DOUBLE_EQ(Cross({0.6, 0.5, -0.05, 0.3, 0.2, -0.4}), 1.5 + 0.5 * 0.5 / 0.55);
}

TEST(CrossingTimeTest, NoCrossingGivesTheFallback) {
  EXPECT_EQ(Cross({0.5, 0.4, 0.1}, 7.0), 7.0);
  EXPECT_EQ(Cross({-0.5, -0.4}, 7.0), 7.0);
  EXPECT_EQ(CrossingTime(Clips(3), 1, 1, [](int) { return 1.0; }, 7.0), 7.0);
}

}  // namespace
}  // namespace sopilot
