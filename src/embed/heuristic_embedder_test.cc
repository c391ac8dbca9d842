#include "embed/heuristic_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace sopilot {
namespace {

FramePtr SolidFrame(int64_t id, cv::Vec3b rgb, int w = 32, int h = 18) {
  auto f = std::make_shared<Frame>();
  f->id = id;
  f->rgb = cv::Mat(h, w, CV_8UC3, cv::Scalar(rgb[0], rgb[1], rgb[2]));
  return f;
}

Clip MakeClip(std::vector<FramePtr> frames) {
  Clip c;
  c.frames = std::move(frames);
  c.real_frames = static_cast<int>(c.frames.size());
  return c;
}

// Undoes the final L2 normalisation using a feature we know is non-zero.
std::vector<double> Raw(const std::vector<float>& v, int known_index, double known_value) {
  double scale = known_value / v[known_index];
  std::vector<double> r(v.begin(), v.end());
  for (double& x : r) x *= scale;
  return r;
}

TEST(HeuristicEmbedderTest, SolidRedClipHasTheOriginalLayout) {
  HeuristicEmbedder e;
  ASSERT_EQ(e.dim(), 904);
  std::vector<float> v(904);
  ASSERT_TRUE(e.Embed(MakeClip({SolidFrame(0, {255, 0, 0}), SolidFrame(1, {255, 0, 0})}), v.data()).ok());
  std::vector<double> r = Raw(v, 0, 1.0);  // mean R = 1
  EXPECT_NEAR(r[1], 0, 1e-9);               // mean G
  EXPECT_NEAR(r[3], 0, 1e-9);               // std R
  EXPECT_NEAR(r[6], 0, 1e-9);               // temporal delta
  EXPECT_NEAR(r[9], 1.0 / 3, 1e-6);         // gray mean: (R+G+B)/3
  EXPECT_NEAR(r[11], 0, 1e-9);              // no motion
  EXPECT_NEAR(r[14], 0, 1e-9);              // no edges
  EXPECT_NEAR(r[16 + 7], 8.0, 1e-6);        // R histogram: all in the top bin, density 8
  EXPECT_NEAR(r[24 + 0], 8.0, 1e-6);        // G all in bin 0
  EXPECT_NEAR(r[32 + 0], 8.0, 1e-6);        // B all in bin 0
  EXPECT_NEAR(r[40], 1.0, 1e-6);            // low_mean pixel (0,0) R
  EXPECT_NEAR(r[41], 0.0, 1e-6);            //                   G
  EXPECT_NEAR(r[472], 0.0, 1e-6);           // low_delta
  double norm = 0;
  for (float x : v) norm += double(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-6);
}

TEST(HeuristicEmbedderTest, BlackToWhiteHasMotionAndTemporalDelta) {
  HeuristicEmbedder e;
  std::vector<float> v(904);
  ASSERT_TRUE(e.Embed(MakeClip({SolidFrame(0, {0, 0, 0}), SolidFrame(1, {255, 255, 255})}), v.data()).ok());
  std::vector<double> r = Raw(v, 11, 1.0);  // mean |d gray| = 1
  EXPECT_NEAR(r[0], 0.5, 1e-6);             // mean R over both frames
  EXPECT_NEAR(r[3], 0.5, 1e-6);             // std R
  EXPECT_NEAR(r[6], 1.0, 1e-6);             // second half minus first half
  EXPECT_NEAR(r[12], 0.0, 1e-6);            // std of |d|
  EXPECT_NEAR(r[13], 1.0, 1e-6);            // max |d|
  EXPECT_NEAR(r[16 + 0], 4.0, 1e-6);        // half the pixels in bin 0
  EXPECT_NEAR(r[16 + 7], 4.0, 1e-6);        // half in bin 7
  EXPECT_NEAR(r[472], 1.0, 1e-6);           // last minus first, low-res
}

TEST(HeuristicEmbedderTest, HistogramBinsFollowNumpyEdges) {
  // v = 31 is below 1/8 (bin 0); v = 32 is above (bin 1); 255 is in bin 7.
  HeuristicEmbedder e;
  std::vector<float> v(904);
  ASSERT_TRUE(e.Embed(MakeClip({SolidFrame(0, {31, 32, 255})}), v.data()).ok());
  std::vector<double> r = Raw(v, 16 + 0, 8.0);
  EXPECT_NEAR(r[24 + 1], 8.0, 1e-6);
  EXPECT_NEAR(r[32 + 7], 8.0, 1e-6);
  EXPECT_NEAR(r[24 + 0], 0.0, 1e-9);
}

TEST(HeuristicEmbedderTest, CachedFramesGiveTheSameResultAsFreshOnes) {
  std::mt19937 rng(7);
  std::vector<FramePtr> frames;
  for (int i = 0; i < 12; ++i) {
    auto f = std::make_shared<Frame>();
    f->id = i;
    f->rgb = cv::Mat(36, 64, CV_8UC3);
    cv::randu(f->rgb, 0, 256);
    frames.push_back(f);
  }
  HeuristicEmbedder streaming;
  for (int start = 0; start + 8 <= 12; start += 2) {
    Clip c = MakeClip({frames.begin() + start, frames.begin() + start + 8});
    std::vector<float> a(904), b(904);
    ASSERT_TRUE(streaming.Embed(c, a.data()).ok());
    HeuristicEmbedder fresh;
    ASSERT_TRUE(fresh.Embed(c, b.data()).ok());
    for (int j = 0; j < 904; ++j) ASSERT_EQ(a[j], b[j]) << "clip at " << start << " dim " << j;
  }
}

TEST(HeuristicEmbedderTest, PaddedFramesAddNoMotion) {
  HeuristicEmbedder e;
  auto a = SolidFrame(0, {0, 0, 0});
  auto b = SolidFrame(1, {255, 255, 255});
  std::vector<float> v(904);
  ASSERT_TRUE(e.Embed(MakeClip({a, b, b, b}), v.data()).ok());
  std::vector<double> r = Raw(v, 13, 1.0);  // max |d| = 1
  EXPECT_NEAR(r[11], 1.0 / 3, 1e-6);        // one moving pair of three
}

TEST(HeuristicEmbedderTest, EmptyClipIsAnError) {
  HeuristicEmbedder e;
  std::vector<float> v(904);
  EXPECT_FALSE(e.Embed(Clip{}, v.data()).ok());
}

}  // namespace
}  // namespace sopilot
