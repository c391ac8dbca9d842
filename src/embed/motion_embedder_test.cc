#include "embed/motion_embedder.h"

#include <filesystem>

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
  // The converted models, where scripts/install-models.sh puts them.
  EmbedderConfig config;
  config.models_dir = std::string(SOPILOT_SOURCE_DIR) + "/models";
  const bool have_models = std::filesystem::exists(config.models_dir + "/manifest.json");
  for (const std::string& name : KnownEmbedders()) {
    if (name == "vjepa2") continue;  // needs a model file: vjepa2_embedder_test.cc
    if ((name == "pose-v1" || name == "appearance-v1") && !have_models) continue;  // learned_embedders_test.cc
    auto e = MakeEmbedder(name, config);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    EXPECT_EQ((*e)->name(), name);
  }
  auto bad = MakeEmbedder("vjepa3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("motion-v1"), std::string::npos) << bad.status().message();
}

// "a+b": blocks side by side, each counting as much, renormalised.
TEST(EmbedderRegistryTest, JoinsEmbeddersWithAPlus) {
  EXPECT_TRUE(IsKnownEmbedder("heuristic-v1+motion-v1"));
  EXPECT_FALSE(IsKnownEmbedder("heuristic-v1+heuristic-v1"));
  EXPECT_FALSE(IsKnownEmbedder("heuristic-v1+"));
  EXPECT_FALSE(IsKnownEmbedder("heuristic-v1+vjepa3"));
  auto bad = MakeEmbedder("heuristic-v1+vjepa3");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);

  auto e = MakeEmbedder("heuristic-v1+motion-v1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "heuristic-v1+motion-v1");
  EXPECT_EQ((*e)->dim(), 904 + MotionEmbedder::kDim);
  std::vector<FramePtr> frames;
  for (int t = 0; t < 8; ++t) frames.push_back(SquareAt(t, 20 + 3 * t, 30));
  std::vector<float> v((*e)->dim());
  ASSERT_TRUE((*e)->Embed(ClipOf(frames), v.data()).ok());
  double all = 0, first = 0;
  for (int i = 0; i < (*e)->dim(); ++i) {
    all += static_cast<double>(v[i]) * v[i];
    if (i < 904) first += static_cast<double>(v[i]) * v[i];
  }
  EXPECT_NEAR(all, 1.0, 1e-4);
  // Both parts are unit vectors with weight 1: each holds half the length.
  EXPECT_NEAR(first, 0.5, 1e-3);
}

}  // namespace
}  // namespace sopilot
