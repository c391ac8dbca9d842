#include "video/frame_sampler.h"

#include <gtest/gtest.h>

#include <vector>

namespace sopilot {
namespace {

// Feeds timestamps and returns, per source frame, how many samples it supplied.
std::vector<int64_t> SamplesPerFrame(double fps, const std::vector<double>& pts, double end) {
  FrameSampler s(fps);
  std::vector<int64_t> per_frame;
  EXPECT_EQ(s.OnFrame(pts[0]), 0);
  for (size_t i = 1; i < pts.size(); ++i) per_frame.push_back(s.OnFrame(pts[i]));
  per_frame.push_back(s.OnEnd(end));
  return per_frame;
}

TEST(FrameSamplerTest, TwelveFpsToFourTakesEveryThirdFrame) {
  std::vector<double> pts;
  for (int i = 0; i < 24; ++i) pts.push_back(i / 12.0);
  std::vector<int64_t> got = SamplesPerFrame(4.0, pts, 2.0);
  ASSERT_EQ(got.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(got[i], i % 3 == 0 ? 1 : 0) << "frame " << i;
}

TEST(FrameSamplerTest, SlowSourceRepeatsFramesToKeepTime) {
  // 1 fps source, 4 fps sampling: each frame stands for four samples.
  std::vector<int64_t> got = SamplesPerFrame(4.0, {0, 1, 2}, 3.0);
  EXPECT_EQ(got, (std::vector<int64_t>{4, 4, 4}));
}

TEST(FrameSamplerTest, VariableRateUsesTheFrameOnScreen) {
  // Frames at 0, 0.1, 0.7, 0.8 (shown until 1.0): t=0.25 and 0.5 fall in
  // [0.1, 0.7), t=0.75 in [0.7, 0.8), and t=1.0 is past the end.
  std::vector<int64_t> got = SamplesPerFrame(4.0, {0, 0.1, 0.7, 0.8}, 1.0);
  EXPECT_EQ(got, (std::vector<int64_t>{1, 2, 1, 0}));
}

TEST(FrameSamplerTest, ToleratesMillisecondRounding) {
  // Matroska rounds 12 fps timestamps to milliseconds: 0.083, 0.167, 0.250.
  std::vector<int64_t> got = SamplesPerFrame(4.0, {0, 0.083, 0.167, 0.250, 0.333, 0.417}, 0.5);
  EXPECT_EQ(got, (std::vector<int64_t>{1, 0, 0, 1, 0, 0}));
  // A timestamp a hair late (0.2505) still counts as on time.
  got = SamplesPerFrame(4.0, {0, 0.2505}, 0.3);
  EXPECT_EQ(got, (std::vector<int64_t>{1, 1}));
}

TEST(FrameSamplerTest, BackwardsTimestampsDoNotEmitTwice) {
  FrameSampler s(4.0);
  EXPECT_EQ(s.OnFrame(0), 0);
  EXPECT_EQ(s.OnFrame(0.5), 2);
  EXPECT_EQ(s.OnFrame(0.3), 0);
  EXPECT_EQ(s.OnEnd(1.0), 2);
  EXPECT_EQ(s.samples_emitted(), 4);
}

TEST(FrameSamplerTest, SingleFrameGivesOneSample) {
  FrameSampler s(4.0);
  EXPECT_EQ(s.OnFrame(0), 0);
  EXPECT_EQ(s.OnEnd(0.0), 1);
}

}  // namespace
}  // namespace sopilot
