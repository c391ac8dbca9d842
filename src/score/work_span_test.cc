#include "score/work_span.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace sopilot {
namespace {

// 2 s clips every 0.5 s over `seconds`, as ingest makes them.
std::vector<ClipSpan> Clips(double seconds) {
  std::vector<ClipSpan> c;
  for (int i = 0; 0.5 * i + 2.0 <= seconds + 1e-9; ++i) c.push_back({i, 0.5 * i, 0.5 * i + 2.0});
  return c;
}

// One unit row per clip, from `at(clip)`.
template <typename F>
FloatMatrix Rows(const std::vector<ClipSpan>& clips, int dim, F at) {
  FloatMatrix m(static_cast<int>(clips.size()), dim);
  for (int i = 0; i < m.rows; ++i) {
    std::vector<double> v = at(clips[i]);
    double n = 0;
    for (double x : v) n += x * x;
    for (int j = 0; j < dim; ++j) m.at(i, j) = static_cast<float>(v[j] / std::sqrt(n));
  }
  return m;
}

constexpr int kDim = 32;

// A scene that keeps changing (a person at work): each clip its own
// direction around a shared background, as a workbench looks.
std::vector<double> Work(std::mt19937* rng) {
  std::normal_distribution<double> n(0.0, 0.15);
  std::vector<double> v(kDim, 1.0);
  for (double& x : v) x += n(*rng);
  return v;
}

// The empty workbench: the background and sensor noise.
std::vector<double> Still(std::mt19937* rng, double noise = 0.003) {
  std::normal_distribution<double> n(0.0, noise);
  std::vector<double> v(kDim, 1.0);
  v[0] = 1.4;  // the bench without the work on it
  for (double& x : v) x += n(*rng);
  return v;
}

TEST(WorkSpanTest, AStillLeadInAndTailAroundWorkAreLeftOut) {
  std::mt19937 rng(7);
  const double duration = 30;
  auto clips = Clips(duration);
  // Nothing moves before 6 s and after 25 s.
  FloatMatrix v = Rows(clips, kDim, [&](const ClipSpan& c) {
    return c.end_sec <= 6.0 || c.start_sec >= 25.0 ? Still(&rng) : Work(&rng);
  });
  TimeSpan work = FindWorkSpan(v, clips, duration);
  EXPECT_NEAR(work.start_sec, 6.0, 0.5 + 1e-9);
  EXPECT_NEAR(work.end_sec, 25.0, 0.5 + 1e-9);
  // Stronger sensor noise on the still scene changes nothing.
  std::mt19937 rng2(8);
  FloatMatrix noisy = Rows(clips, kDim, [&](const ClipSpan& c) {
    return c.end_sec <= 6.0 || c.start_sec >= 25.0 ? Still(&rng2, 0.02) : Work(&rng2);
  });
  TimeSpan w2 = FindWorkSpan(noisy, clips, duration);
  EXPECT_NEAR(w2.start_sec, 6.0, 0.5 + 1e-9);
  EXPECT_NEAR(w2.end_sec, 25.0, 0.5 + 1e-9);
}

TEST(WorkSpanTest, WorkFromTheFirstMomentIsTheWholeVideo) {
  std::mt19937 rng(1);
  auto clips = Clips(20);
  FloatMatrix v = Rows(clips, kDim, [&](const ClipSpan&) { return Work(&rng); });
  TimeSpan work = FindWorkSpan(v, clips, 20);
  EXPECT_EQ(work.start_sec, 0.0);
  EXPECT_EQ(work.end_sec, 20.0);
}

TEST(WorkSpanTest, StillnessMustBeSeenOverTwoClipsThatShareNoFrame) {
  // 3.5 s still: its clips all share a frame with the first, so stillness
  // is not seen; the time stays with the first step.
  std::mt19937 rng(2);
  auto clips = Clips(20);
  FloatMatrix v = Rows(clips, kDim, [&](const ClipSpan& c) { return c.end_sec <= 3.5 ? Still(&rng) : Work(&rng); });
  EXPECT_EQ(FindWorkSpan(v, clips, 20).start_sec, 0.0);
}

TEST(WorkSpanTest, StillStepsGiveNoLeadIn) {
  // Slides: every step a still picture. The first cannot be told from an
  // empty scene, so nothing is left out.
  auto clips = Clips(24);
  std::mt19937 grain(4);
  std::normal_distribution<double> noise(0.0, 0.001);  // the encoder's grain
  FloatMatrix v = Rows(clips, kDim, [&](const ClipSpan& c) {
    std::vector<double> s(kDim, 0.1);
    s[static_cast<int>(c.start_sec / 6.0) % kDim] = 1.0;  // a new picture every 6 s
    for (double& x : s) x += noise(grain);
    return s;
  });
  TimeSpan work = FindWorkSpan(v, clips, 24);
  EXPECT_EQ(work.start_sec, 0.0);
  EXPECT_EQ(work.end_sec, 24.0);
  // Nor when the work stands still as long as the lead-in somewhere.
  std::mt19937 rng(3);
  FloatMatrix paused = Rows(clips, kDim, [&](const ClipSpan& c) {
    if (c.end_sec <= 5.0) return Still(&rng);
    if (c.start_sec >= 12.0 && c.end_sec <= 18.0) {
      std::vector<double> p(kDim, 1.0);
      p[1] = 2.0;  // a pause in the work, longer than the lead-in
      return p;
    }
    return Work(&rng);
  });
  EXPECT_EQ(FindWorkSpan(paused, clips, 24).start_sec, 0.0);
}

TEST(WorkSpanTest, AStaticVideoIsAllWork) {
  auto clips = Clips(12);
  FloatMatrix v = Rows(clips, kDim, [&](const ClipSpan&) { return std::vector<double>(kDim, 1.0); });
  TimeSpan work = FindWorkSpan(v, clips, 12);
  EXPECT_EQ(work.start_sec, 0.0);
  EXPECT_EQ(work.end_sec, 12.0);
}

TEST(WorkSpanTest, APartIsAVideoOfItsOwn) {
  auto clips = Clips(10);
  FloatMatrix v = Rows(clips, 2, [&](const ClipSpan& c) { return std::vector<double>{1.0, c.start_sec}; });
  VideoPart part = PartOfVideo(v, clips, {3.0, 8.0});
  // Clips wholly inside [3, 8]: starts 3.0 ... 6.0.
  ASSERT_EQ(part.clips.size(), 7u);
  EXPECT_EQ(part.vectors.rows, 7);
  EXPECT_DOUBLE_EQ(part.duration_sec, 5.0);
  EXPECT_DOUBLE_EQ(part.clips.front().start_sec, 0.0);
  EXPECT_DOUBLE_EQ(part.clips.back().end_sec, 5.0);
  EXPECT_EQ(part.clips.back().index, 6);
  EXPECT_FLOAT_EQ(part.vectors.at(0, 0), v.at(6, 0));  // clip 6 starts at 3.0
}

}  // namespace
}  // namespace sopilot
