#include "base/moving_median.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace sopilot {
namespace {

// What MovingMedians replaces: a copy of the window and nth_element.
float DirectMedian(const std::vector<float>& values, IndexWindow w) {
  std::vector<float> v(values.begin() + w.begin, values.begin() + w.end);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

TEST(MovingMediansTest, OddWindowIsTheMiddleAndEvenTheUpperMiddle) {
  const std::vector<float> v = {5, 1, 4, 2, 3};
  const std::vector<IndexWindow> w = {{0, 1}, {0, 2}, {0, 3}, {1, 4}, {1, 5}, {4, 5}};
  EXPECT_EQ(MovingMedians(v, w), (std::vector<float>{5, 5, 4, 2, 3, 3}));
}

TEST(MovingMediansTest, AgreesWithNthElementOnSlidingWindowsWithTies) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    std::vector<float> values(n);
    // Few distinct values, so windows hold many ties; some trials continuous.
    const bool ties = trial % 2 == 0;
    for (float& x : values) {
      x = ties ? static_cast<float>(rng() % 7) - 3.0f : std::normal_distribution<float>(0, 1)(rng);
    }
    // Windows as clips' neighbourhoods: around each position, of a width
    // that varies, never moving back.
    std::vector<IndexWindow> windows;
    int begin = 0, end = 0;
    for (int i = 0; i < n; ++i) {
      begin = std::max(begin, i - static_cast<int>(rng() % 40));
      begin = std::min(begin, i);
      end = std::max({end, i + 1, std::min(n, i + 1 + static_cast<int>(rng() % 40))});
      windows.push_back({begin, end});
    }
    const std::vector<float> got = MovingMedians(values, windows);
    ASSERT_EQ(got.size(), windows.size());
    for (size_t i = 0; i < windows.size(); ++i) {
      ASSERT_EQ(got[i], DirectMedian(values, windows[i]))
          << "trial " << trial << " window [" << windows[i].begin << ", " << windows[i].end << ")";
    }
  }
}

TEST(MovingMediansTest, WindowsThatStepBackOrJumpAreComputedAfresh) {
  const std::vector<float> v = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  const std::vector<IndexWindow> w = {{5, 10}, {0, 3}, {1, 4}, {7, 9}, {2, 6}};
  const std::vector<float> got = MovingMedians(v, w);
  ASSERT_EQ(got.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(got[i], DirectMedian(v, w[i])) << i;
}

TEST(MovingMediansTest, EmptyAndOutOfRangeWindowsNeverReadOutside) {
  const std::vector<float> v = {1, 2, 3};
  const std::vector<IndexWindow> w = {{2, 2}, {3, 1}, {-5, 2}, {1, 99}, {7, 9}};
  EXPECT_EQ(MovingMedians(v, w), (std::vector<float>{0, 0, 2, 3, 0}));
  EXPECT_TRUE(MovingMedians({}, w).size() == w.size());
}

TEST(MovingMediansTest, NansAreLeftOut) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {1, 2, nan, 4, 5, 6, 7, nan, nan, 10};
  std::vector<IndexWindow> w;
  for (int i = 0; i < 10; ++i) w.push_back({std::max(0, i - 2), std::min(10, i + 3)});
  w.push_back({7, 9});  // nothing but NaN
  const std::vector<float> got = MovingMedians(v, w);
  ASSERT_EQ(got.size(), w.size());
  for (int i = 0; i < 10; ++i) {
    std::vector<float> finite;
    for (int k = w[i].begin; k < w[i].end; ++k) {
      if (!std::isnan(v[k])) finite.push_back(v[k]);
    }
    EXPECT_EQ(got[i], DirectMedian(finite, {0, static_cast<int>(finite.size())})) << i;
  }
  EXPECT_TRUE(std::isnan(got[10]));
}

}  // namespace
}  // namespace sopilot
