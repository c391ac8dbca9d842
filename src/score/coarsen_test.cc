#include "score/coarsen.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sopilot {
namespace {

TEST(CoarsenFactorTest, SmallestFactorThatFits) {
  EXPECT_EQ(CoarsenFactor(100, 100, 10'000), 1);
  EXPECT_EQ(CoarsenFactor(100, 100, 9'999), 2);
  EXPECT_EQ(CoarsenFactor(100, 100, 2'500), 2);
  EXPECT_EQ(CoarsenFactor(100, 100, 2'499), 3);
  EXPECT_EQ(CoarsenFactor(80'000, 80'000, 0), 1) << "0 lifts the bound";
  // A timestamp bomb's 80,000 clips against itself, under the default bound.
  const int k = CoarsenFactor(80'000, 80'000, 16'000'000);
  EXPECT_LE(int64_t{(80'000 + k - 1) / k} * ((80'000 + k - 1) / k), 16'000'000);
  EXPECT_GT(int64_t{(80'000 + k - 2) / (k - 1)} * ((80'000 + k - 2) / (k - 1)), 16'000'000) << "not the smallest";
  // Lopsided inputs.
  const int j = CoarsenFactor(1, 50'000, 10'000);
  EXPECT_LE((50'000 + j - 1) / j, 10'000);
}

TEST(CoarsenedTest, MergesRunsOfClips) {
  EmbeddingSet s;
  s.model = "m";
  s.sampling = {4, 2.0, 0.5, 320, 0.6};
  s.vectors = FloatMatrix(5, 2);
  for (int i = 0; i < 5; ++i) {
    s.clips.push_back({i, 0.5 * i, 0.5 * i + 2.0});
    s.vectors.at(i, i % 2) = 1.0f;  // alternating unit vectors
  }
  EmbeddingSet c = Coarsened(s, 2);
  ASSERT_EQ(c.vectors.rows, 3);
  ASSERT_EQ(c.clips.size(), 3u);
  EXPECT_EQ(c.model, "m");
  EXPECT_DOUBLE_EQ(c.sampling.clip_stride_sec, 1.0);
  EXPECT_DOUBLE_EQ(c.sampling.clip_seconds, 2.5);
  EXPECT_DOUBLE_EQ(c.clips[0].start_sec, 0.0);
  EXPECT_DOUBLE_EQ(c.clips[0].end_sec, 2.5);
  EXPECT_DOUBLE_EQ(c.clips[2].start_sec, 2.0);  // the last run holds one clip
  EXPECT_DOUBLE_EQ(c.clips[2].end_sec, 4.0);
  EXPECT_EQ(c.clips[1].index, 1);
  // Means of (1,0) and (0,1), normalised.
  EXPECT_NEAR(c.vectors.at(0, 0), std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(c.vectors.at(0, 1), std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(c.vectors.at(2, 0), 1.0, 1e-6);
  EXPECT_EQ(Coarsened(s, 1).vectors.rows, 5);
}

}  // namespace
}  // namespace sopilot
