#include "score/alike_runs.h"

#include <gtest/gtest.h>

#include "score/step_matcher.h"

namespace sopilot {
namespace {

TEST(AlikeRunsTest, ChainedStepsFormOneRun) {
  // Steps 0 | 1 2 3 | 4 5.
  AlikeRuns runs({false, true, true, false, true, false}, 6);
  ASSERT_EQ(runs.step_count(), 6);
  ASSERT_EQ(runs.run_count(), 3);
  EXPECT_EQ(runs.First(0), 0);
  EXPECT_EQ(runs.Last(0), 0);
  EXPECT_EQ(runs.First(1), 1);
  EXPECT_EQ(runs.Last(1), 3);
  EXPECT_EQ(runs.First(2), 4);
  EXPECT_EQ(runs.Last(2), 5);
  const int expected_run[] = {0, 1, 1, 1, 2, 2};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(runs.RunOf(k), expected_run[k]) << k;
  EXPECT_TRUE(runs.AlikeNeighbours(2, 1));
  EXPECT_TRUE(runs.AlikeNeighbours(2, 3));
  EXPECT_FALSE(runs.AlikeNeighbours(1, 3));  // one run, but not neighbours
  EXPECT_FALSE(runs.AlikeNeighbours(3, 4));
  EXPECT_FALSE(runs.AlikeNeighbours(2, 2));
}

TEST(AlikeRunsTest, OutOfRangeStepsAreAlikeToNothing) {
  // The last flag would make the last step alike to a step that does not
  // exist: it is ignored, as is a flag past the steps.
  AlikeRuns runs({true, true, true, true}, 3);
  EXPECT_EQ(runs.run_count(), 1);
  EXPECT_EQ(runs.Last(0), 2);
  EXPECT_FALSE(runs.AlikeNext(2));
  EXPECT_FALSE(runs.AlikeNext(3));
  EXPECT_FALSE(runs.AlikeNext(kNoStep));
  EXPECT_FALSE(runs.AlikeNeighbours(kNoStep, 0));
  EXPECT_FALSE(runs.AlikeNeighbours(2, 3));
  // The flags handed on to the step matcher: one per step, the last false.
  EXPECT_EQ(runs.alike_next(), (std::vector<bool>{true, true, false}));
}

TEST(AlikeRunsTest, MissingFlagsMeanEveryStepIsARun) {
  AlikeRuns runs({}, 4);
  EXPECT_EQ(runs.run_count(), 4);
  EXPECT_EQ(runs.alike_next(), std::vector<bool>(4, false));
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(runs.RunOf(k), k);
    EXPECT_EQ(runs.First(k), k);
    EXPECT_EQ(runs.Last(k), k);
  }
  AlikeRuns none({}, 0);
  EXPECT_EQ(none.step_count(), 0);
  EXPECT_EQ(none.run_count(), 0);
  EXPECT_FALSE(none.AlikeNext(0));
}

}  // namespace
}  // namespace sopilot
