#include "score/comparison_space.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sopilot {
namespace {

// 2 s clips every 2 s (no two share time), steps by index, and a
// similarity matrix written by hand.
std::vector<ClipSpan> Clips(int n) {
  std::vector<ClipSpan> c;
  for (int i = 0; i < n; ++i) c.push_back({i, 2.0 * i, 2.0 * i + 2});
  return c;
}

TEST(ComparisonSpaceTest, SameAndNeighbourStepLevels) {
  // Steps: 0 = clips 0-1, 1 = clips 2-3, 2 = clip 4.
  const std::vector<int> step_of = {0, 0, 1, 1, 2};
  FloatMatrix sim(5, 5);
  auto set = [&](int a, int b, float v) { sim.at(a, b) = sim.at(b, a) = v; };
  for (int i = 0; i < 5; ++i) sim.at(i, i) = 1;
  set(0, 1, 0.9f);  // step 0 alike within
  set(2, 3, 0.6f);  // step 1 less so
  set(0, 2, 0.7f);
  set(0, 3, 0.2f);
  set(1, 2, 0.3f);
  set(1, 3, 0.8f);
  set(2, 4, 0.1f);
  set(3, 4, 0.4f);
  std::vector<double> same = SameStepSimilarity(sim, Clips(5), step_of);
  EXPECT_NEAR(same[0], 0.9, 1e-6);
  EXPECT_NEAR(same[2], 0.6, 1e-6);
  EXPECT_TRUE(std::isnan(same[4]));  // a step of one clip has no partner

  NeighbourSimilarity n = NeighbourStepSimilarity(sim, Clips(5), step_of, 3);
  ASSERT_EQ(n.into_next.size(), 2u);
  // Step 0's clips into step 1: clip 0 best 0.7, clip 1 best 0.8; their median.
  EXPECT_NEAR(n.into_next[0], 0.75, 1e-6);
  // Step 1's clips into step 0: clip 2 best 0.7, clip 3 best 0.8.
  EXPECT_NEAR(n.into_previous[0], 0.75, 1e-6);
  EXPECT_NEAR(n.into_next[1], 0.25, 1e-6);     // clips 2, 3 into step 2: 0.1, 0.4
  EXPECT_NEAR(n.into_previous[1], 0.4, 1e-6);  // clip 4 into step 1
  // Clips that share time are never compared: with 2 s clips every 0.5 s,
  // neighbours' clips at the boundary overlap and would look alike.
  std::vector<ClipSpan> overlapping = {{0, 0, 2}, {1, 0.5, 2.5}};
  FloatMatrix two(2, 2);
  two.at(0, 1) = two.at(1, 0) = 0.99f;
  NeighbourSimilarity none = NeighbourStepSimilarity(two, overlapping, {0, 1}, 2);
  EXPECT_TRUE(std::isnan(none.into_next[0]));
  EXPECT_TRUE(NeighbourStepSimilarity(two, overlapping, {0, 0}, 1).into_next.empty());
}

}  // namespace
}  // namespace sopilot
