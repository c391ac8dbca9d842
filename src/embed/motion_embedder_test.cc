#include "embed/motion_embedder.h"

#include <filesystem>

#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "embed/combined_embedder.h"
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

// A square moving right over 8 frames; FirstBlockShare embeds it with `e`
// (a combination whose first part has
// `first_dim` values): checks the whole vector is a unit vector and returns
// the share of its squared length in the first part.
std::vector<FramePtr> MovingSquare() {
  std::vector<FramePtr> frames;
  for (int t = 0; t < 8; ++t) frames.push_back(SquareAt(t, 20 + 3 * t, 30));
  return frames;
}

double FirstBlockShare(Embedder* e, int first_dim) {
  std::vector<float> v(e->dim());
  EXPECT_TRUE(e->Embed(ClipOf(MovingSquare()), v.data()).ok());
  double all = 0, first = 0;
  for (int i = 0; i < e->dim(); ++i) {
    all += static_cast<double>(v[i]) * v[i];
    if (i < first_dim) first += static_cast<double>(v[i]) * v[i];
  }
  EXPECT_NEAR(all, 1.0, 1e-4);
  return first;
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
  const double first = FirstBlockShare(e->get(), 904);
  // Both parts are unit vectors with weight 1: each holds half the length.
  EXPECT_NEAR(first, 0.5, 1e-3);
}

// "a*W+b": a part weighted by name; the name, weights included, is recorded.
TEST(EmbedderRegistryTest, WeightsAPartByName) {
  auto e = MakeEmbedder("heuristic-v1*0.5+motion-v1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "heuristic-v1*0.5+motion-v1");
  EXPECT_EQ((*e)->dim(), 904 + MotionEmbedder::kDim);
  const double first = FirstBlockShare(e->get(), 904);
  // Unit blocks weighted 0.5 and 1: the first holds 0.25 / 1.25 of the length.
  EXPECT_NEAR(first, 0.2, 1e-3);

  // Only the ratio counts, but the names differ, so their files never compare.
  auto a = MakeEmbedder("heuristic-v1*2+motion-v1");
  auto b = MakeEmbedder("heuristic-v1+motion-v1*0.5");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->name(), (*b)->name());
  const std::vector<FramePtr> frames = MovingSquare();
  std::vector<float> va((*a)->dim()), vb((*b)->dim());
  ASSERT_TRUE((*a)->Embed(ClipOf(frames), va.data()).ok());
  ASSERT_TRUE((*b)->Embed(ClipOf(frames), vb.data()).ok());
  EXPECT_NEAR(Cosine(va, vb), 1.0, 1e-5);

  for (const char* name : {"heuristic-v1*0.5+motion-v1", "heuristic-v1+motion-v1*0.25", "heuristic-v1*0.35+motion-v1",
                           "heuristic-v1*0.001+motion-v1", "heuristic-v1*100+motion-v1", "heuristic-v1*12.5+motion-v1",
                           "motion-v1*3+heuristic-v1*0.125"}) {
    EXPECT_TRUE(IsKnownEmbedder(name)) << name;
    EXPECT_TRUE(CheckEmbedderName(name).ok()) << name << ": " << CheckEmbedderName(name).ToString();
    auto made = MakeEmbedder(name);
    ASSERT_TRUE(made.ok()) << name << ": " << made.status().ToString();
    EXPECT_EQ((*made)->name(), name);
  }
}

// A bad weight is InvalidArgument with its reason, never a crash or an
// embedder whose name differs from the one asked for.
TEST(EmbedderRegistryTest, RefusesBadWeights) {
  for (const char* w : {"0", "0.0", "0.000", "-0.5", "-1", "+0.5", "nan", "NaN", "-nan", "inf", "Infinity", "1e3",
                        "1e-3", "0x1p-1", "101", "100.001", "1000", "99999999999999999999999999999999",
                        "1000000000000000000000000000000000000000.5", "0.0001", "0.1234", "", ".5", "5.", "0.50",
                        "00.5", "01", "1", "1.0", "1.000", " 0.5", "0.5 ", "0,5", "0.5*2", "½", "0.5.5"}) {
    const std::string name = std::string("heuristic-v1*") + w + "+motion-v1";
    EXPECT_FALSE(IsKnownEmbedder(name)) << name;
    const Status st = CheckEmbedderName(name);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << name << ": " << st.ToString();
    EXPECT_NE(st.message().find(name), std::string::npos) << st.message();
    auto e = MakeEmbedder(name);
    ASSERT_FALSE(e.ok()) << name;
    EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument) << name << ": " << e.status().ToString();
    // The second part too.
    const std::string last = std::string("heuristic-v1+motion-v1*") + w;
    EXPECT_FALSE(IsKnownEmbedder(last)) << last;
    EXPECT_EQ(MakeEmbedder(last).status().code(), Status::Code::kInvalidArgument) << last;
  }
  // Not a weight problem, but a name with a '*' that is still wrong.
  for (const char* name : {"heuristic-v1*0.5", "*0.5+motion-v1", "heuristic-v1*0.5+heuristic-v1",
                           "heuristic-v1*0.5+heuristic-v1*0.25", "heuristic-v1*0.5+vjepa3*0.5", "heuristic-v1*0.5+",
                           "*", "+*"}) {
    EXPECT_FALSE(IsKnownEmbedder(name)) << name;
    auto e = MakeEmbedder(name);
    ASSERT_FALSE(e.ok()) << name;
    EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument) << name << ": " << e.status().ToString();
  }
  // The reason says how to write it.
  EXPECT_NE(CheckEmbedderName("heuristic-v1*0.50+motion-v1").message().find("\"heuristic-v1*0.5\""),
            std::string::npos)
      << CheckEmbedderName("heuristic-v1*0.50+motion-v1").message();
  EXPECT_NE(CheckEmbedderName("heuristic-v1*1+motion-v1").message().find("\"heuristic-v1\""), std::string::npos)
      << CheckEmbedderName("heuristic-v1*1+motion-v1").message();
  EXPECT_NE(CheckEmbedderName("heuristic-v1*0+motion-v1").message().find("zero"), std::string::npos);
  EXPECT_NE(CheckEmbedderName("heuristic-v1*101+motion-v1").message().find("too large"), std::string::npos);
  EXPECT_NE(CheckEmbedderName("heuristic-v1*nan+motion-v1").message().find("not a weight"), std::string::npos);
  EXPECT_NE(CheckEmbedderName("heuristic-v1*0.5+heuristic-v1").message().find("twice"), std::string::npos);
  EXPECT_TRUE(CheckEmbedderName("heuristic-v1").ok());
  EXPECT_EQ(CheckEmbedderName("vjepa3").code(), Status::Code::kInvalidArgument);
}

TEST(CombinedEmbedderTest, WritesAWeightOneWay) {
  EXPECT_EQ(CombinedEmbedder::WeightText(0.5f), "0.5");
  EXPECT_EQ(CombinedEmbedder::WeightText(0.35f), "0.35");
  EXPECT_EQ(CombinedEmbedder::WeightText(0.25f), "0.25");
  EXPECT_EQ(CombinedEmbedder::WeightText(0.001f), "0.001");
  EXPECT_EQ(CombinedEmbedder::WeightText(2.0f), "2");
  EXPECT_EQ(CombinedEmbedder::WeightText(12.5f), "12.5");
  EXPECT_EQ(CombinedEmbedder::WeightText(100.0f), "100");
}

}  // namespace
}  // namespace sopilot
