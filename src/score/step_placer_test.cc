#include "score/step_placer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace sopilot {
namespace {

// Clips of 2 s every 0.5 s, as ingest makes them, each a noisy copy of its
// step's direction; `lengths` in clips.
struct Synthetic {
  FloatMatrix vectors;
  std::vector<ClipSpan> clips;
};

Synthetic Make(const std::vector<int>& lengths, double noise, int dims = 32, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0, 1);
  int total = 0;
  for (int n : lengths) total += n;
  Synthetic s;
  s.vectors = FloatMatrix(total, dims);
  int row = 0;
  for (size_t k = 0; k < lengths.size(); ++k) {
    std::vector<float> dir(dims);
    for (float& x : dir) x = gauss(rng);
    for (int i = 0; i < lengths[k]; ++i, ++row) {
      for (int j = 0; j < dims; ++j) s.vectors.at(row, j) = dir[j] + static_cast<float>(noise) * gauss(rng);
    }
  }
  NormalizeRows(&s.vectors);
  for (int i = 0; i < total; ++i) s.clips.push_back({i, 0.5 * i, 0.5 * i + 2});
  return s;
}

TEST(PlaceBoundariesTest, SplitsNoisyStepsOfUnevenLengthWhereTheyChange) {
  // Steps of 10, 4, 24 and 6 clips: 5 s, 2 s, 12 s, 3 s of clip starts.
  Synthetic s = Make({10, 4, 24, 6}, 0.8);
  auto cuts = PlaceBoundaries(s.vectors, s.clips, 4, 2.0);
  ASSERT_TRUE(cuts.ok()) << cuts.status().ToString();
  ASSERT_EQ(cuts->size(), 3u);
  // Clip 10 is the first of step 2: the boundary lies halfway between the
  // centres of clips 9 and 10, 5.75 s.
  EXPECT_NEAR((*cuts)[0], 5.75, 1e-9);
  EXPECT_NEAR((*cuts)[1], 7.75, 1e-9);
  EXPECT_NEAR((*cuts)[2], 19.75, 1e-9);
}

TEST(PlaceBoundariesTest, OneStepHasNoBoundaryAndBadCountsAreErrors) {
  Synthetic s = Make({12}, 0.5);
  auto one = PlaceBoundaries(s.vectors, s.clips, 1, 2.0);
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->empty());
  EXPECT_EQ(PlaceBoundaries(s.vectors, s.clips, 0, 2.0).status().code(), Status::Code::kInvalidArgument);
  // 12 clips hold at most 3 steps of 2 s (4 clip starts each).
  EXPECT_TRUE(PlaceBoundaries(s.vectors, s.clips, 3, 2.0).ok());
  auto too_many = PlaceBoundaries(s.vectors, s.clips, 4, 2.0);
  ASSERT_EQ(too_many.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("too short"), std::string::npos) << too_many.status().message();
}

TEST(PlaceBoundariesTest, AnOutlierClipDoesNotMoveTheBoundary) {
  // A clip unlike everything else inside the first step: the split still
  // falls where the steps change.
  Synthetic s = Make({20, 20}, 0.3);
  for (int j = 0; j < s.vectors.cols; ++j) s.vectors.at(5, j) = (j == 0) ? 1.0f : 0.0f;
  auto cuts = PlaceBoundaries(s.vectors, s.clips, 2, 2.0);
  ASSERT_TRUE(cuts.ok());
  ASSERT_EQ(cuts->size(), 1u);
  EXPECT_NEAR((*cuts)[0], 10.75, 1e-9);
}

TEST(PlaceBoundariesTest, NoStepIsShorterThanTheMinimum) {
  // Asked for one step more than the video shows, the best split of the
  // variance makes the outlier last clip a step of its own; a step is at
  // least min_step_seconds (4 clip starts of 0.5 s here) long instead.
  Synthetic s = Make({20, 20}, 0.3);
  for (int j = 0; j < s.vectors.cols; ++j) s.vectors.at(39, j) = (j == 0) ? 1.0f : 0.0f;
  // A boundary lies between the centres of two clips (0.5 i + 1): clip starts
  // before it, as a count.
  auto clips_before = [](double cut) { return static_cast<int>(std::lround((cut - 0.75) / 0.5)); };
  auto free = PlaceBoundaries(s.vectors, s.clips, 3, 0.5);  // a step may be one clip start
  ASSERT_TRUE(free.ok());
  ASSERT_EQ(free->size(), 2u);
  EXPECT_EQ(clips_before((*free)[0]), 20);
  EXPECT_EQ(clips_before((*free)[1]), 39) << "the outlier alone";
  auto cuts = PlaceBoundaries(s.vectors, s.clips, 3, 2.0);
  ASSERT_TRUE(cuts.ok());
  ASSERT_EQ(cuts->size(), 2u);
  int start = 0;
  for (int end : {clips_before((*cuts)[0]), clips_before((*cuts)[1]), 40}) {
    EXPECT_GE(end - start, 4) << "clips " << start << " to " << end;
    start = end;
  }
  EXPECT_EQ(clips_before((*cuts)[0]), 20);  // the real change is still a boundary
}

TEST(PlaceBoundariesTest, ALongGoldIsPlacedOnEveryFewClips) {
  // Over kMaxPlacedClips clips: placed on a thinned grid, so within a few
  // strides of the change.
  Synthetic s = Make({1500, 900, 1200}, 0.8, 16);
  auto cuts = PlaceBoundaries(s.vectors, s.clips, 3, 2.0);
  ASSERT_TRUE(cuts.ok()) << cuts.status().ToString();
  ASSERT_EQ(cuts->size(), 2u);
  EXPECT_NEAR((*cuts)[0], 0.5 * 1500 + 0.75, 1.5);
  EXPECT_NEAR((*cuts)[1], 0.5 * 2400 + 0.75, 1.5);
}

TEST(PlaceStepsTest, KeepsNamesAndRulesAndCoversTheVideo) {
  Synthetic s = Make({10, 14, 12}, 0.6);
  std::vector<StepSpec> untimed(3);
  untimed[0].name = "open";
  untimed[1].name = "clean";
  untimed[1].rules.critical = true;
  untimed[2].name = "close";
  for (StepSpec& sp : untimed) sp.timed = false;
  auto placed = PlaceSteps(untimed, s.vectors, s.clips, 19.5, 2.0);
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  ASSERT_EQ(placed->size(), 3u);
  EXPECT_EQ((*placed)[1].name, "clean");
  EXPECT_TRUE((*placed)[1].rules.critical);
  for (const StepSpec& sp : *placed) EXPECT_TRUE(sp.timed);
  EXPECT_DOUBLE_EQ((*placed)[0].gold_time.start_sec, 0.0);
  EXPECT_NEAR((*placed)[0].gold_time.end_sec, 5.75, 0.25);  // refined within a stride
  EXPECT_DOUBLE_EQ((*placed)[1].gold_time.start_sec, (*placed)[0].gold_time.end_sec);
  EXPECT_NEAR((*placed)[1].gold_time.end_sec, 12.75, 0.25);
  EXPECT_DOUBLE_EQ((*placed)[2].gold_time.end_sec, 19.5);
}

}  // namespace
}  // namespace sopilot
