#include "base/median.h"

#include <gtest/gtest.h>

namespace sopilot {
namespace {

TEST(MedianTest, OddCountIsTheMiddleValue) {
  EXPECT_DOUBLE_EQ(Median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_DOUBLE_EQ(Median({5.0}), 5.0);
  EXPECT_DOUBLE_EQ(Median({9.0, -1.0, 4.0, 4.0, 0.5}), 4.0);
}

TEST(MedianTest, EvenCountIsTheMeanOfTheTwoMiddleValues) {
  EXPECT_DOUBLE_EQ(Median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_DOUBLE_EQ(Median({0.2, 0.8}), 0.5);
  EXPECT_DOUBLE_EQ(Median({7.0, 7.0, 1.0, 9.0, 7.0, 0.0}), 7.0);
}

TEST(MedianTest, EmptyIsZero) { EXPECT_DOUBLE_EQ(Median({}), 0.0); }

TEST(MedianTest, AgreesWithSortingOnManySamples) {
  unsigned state = 12345;
  for (int n = 1; n < 60; ++n) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) {
      state = state * 1103515245u + 12345u;
      v.push_back(static_cast<double>((state >> 16) % 100));  // ties included
    }
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const double expected = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    EXPECT_DOUBLE_EQ(Median(v), expected) << n;
  }
}

}  // namespace
}  // namespace sopilot
