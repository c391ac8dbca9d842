#include "embed/motion_embedder.h"

#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "embed/embedder_registry.h"

namespace sopilot {
namespace {

// A textured square at (x, y) on a grey picture.
FramePtr SquareAt(int64_t id, int x, int y, int w = 160, int h = 120) {
  auto f = std::make_shared<Frame>();
  f->id = id;
  f->rgb = cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 90, 90));
  for (int r = 0; r < 30; ++r) {
    for (int c = 0; c < 30; ++c) {
      uint8_t v = ((r / 5 + c / 5) % 2) ? 250 : 10;
      f->rgb.at<cv::Vec3b>(y + r, x + c) = cv::Vec3b(v, v, v);
    }
  }
  return f;
}

Clip ClipOf(std::vector<FramePtr> frames) {
  Clip c;
  c.frames = std::move(frames);
  c.real_frames = static_cast<int>(c.frames.size());
  return c;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += static_cast<double>(a[i]) * b[i];
  return d;
}

// The vector of a square moving by (dx, dy) per frame, starting at (x, y).
std::vector<float> Moving(int x, int y, int dx, int dy, int64_t first_id = 0) {
  MotionEmbedder e;
  std::vector<FramePtr> frames;
  for (int t = 0; t < 6; ++t) frames.push_back(SquareAt(first_id + t, x + t * dx, y + t * dy));
  std::vector<float> v(MotionEmbedder::kDim);
  EXPECT_TRUE(e.Embed(ClipOf(frames), v.data()).ok());
  return v;
}

TEST(MotionEmbedderTest, AStillClipIsAllZero) {
  MotionEmbedder e;
  std::vector<float> v(MotionEmbedder::kDim, 1.0f);
  ASSERT_TRUE(e.Embed(ClipOf({SquareAt(0, 40, 40), SquareAt(1, 40, 40), SquareAt(1, 40, 40)}), v.data()).ok());
  for (float x : v) EXPECT_EQ(x, 0.0f);
}

TEST(MotionEmbedderTest, TellsDirectionsApartAndIgnoresLighting) {
  std::vector<float> right = Moving(20, 40, 4, 0);
  std::vector<float> right_again = Moving(20, 40, 4, 0, 100);
  std::vector<float> down = Moving(60, 10, 0, 4);
  double norm = 0;
  for (float x : right) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_NEAR(Cosine(right, right_again), 1.0, 1e-6);
  EXPECT_LT(Cosine(right, down), 0.5);
  // The same motion under a brighter lamp.
  MotionEmbedder e;
  std::vector<FramePtr> frames;
  for (int t = 0; t < 6; ++t) {
    auto f = std::make_shared<Frame>(*SquareAt(200 + t, 20 + 4 * t, 40));
    f->rgb.convertTo(const_cast<cv::Mat&>(f->rgb), -1, 0.9, 20);
    frames.push_back(f);
  }
  std::vector<float> lit(MotionEmbedder::kDim);
  ASSERT_TRUE(e.Embed(ClipOf(frames), lit.data()).ok());
  EXPECT_GT(Cosine(right, lit), 0.95);
}

TEST(EmbedderRegistryTest, KnowsItsEmbeddersAndNamesThemWhenAskedForAnother) {
  ASSERT_EQ(KnownEmbedders().front(), kDefaultEmbedder);
  for (const std::string& name : KnownEmbedders()) {
    if (name == "vjepa2") continue;  // needs a model file: vjepa2_embedder_test.cc
    auto e = MakeEmbedder(name);
    ASSERT_TRUE(e.ok()) << name;
    EXPECT_EQ((*e)->name(), name);
  }
  auto bad = MakeEmbedder("vjepa3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("motion-v1"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace sopilot
