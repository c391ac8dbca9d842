// pose-v1 and appearance-v1 through the registry, on the models
// scripts/install-models.sh converted (SOPILOT_MODELS_DIR or ./models).
// The tests skip, saying why, when the models are not installed; CI installs
// them. Real hands come from ../shared/fixtures/handwash (skipped without it).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "embed/appearance_embedder.h"
#include "embed/body_pose.h"
#include "embed/embedder_registry.h"
#include "embed/hand_tracker.h"
#include "embed/model_manifest.h"
#include "embed/pose_embedder.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "video/clip_windower.h"
#include "video/video_decoder.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;

std::string ModelsDir() {
  if (const char* d = std::getenv("SOPILOT_MODELS_DIR"); d && *d) return d;
  return std::string(SOPILOT_SOURCE_DIR) + "/models";
}

#define REQUIRE_MODELS()                                                                           \
  do {                                                                                             \
    if (!fs::exists(ModelsDir() + "/manifest.json")) {                                             \
      GTEST_SKIP() << "no converted models in " << ModelsDir() << " (run scripts/install-models.sh)"; \
    }                                                                                              \
  } while (0)

EmbedderConfig Config() {
  EmbedderConfig c;
  c.models_dir = ModelsDir();
  return c;
}

// Every clip of `video`, embedded by `e`.
std::vector<std::vector<float>> EmbedAll(const std::string& video, Embedder* e, double max_seconds = 1e9) {
  DecodeOptions d;
  auto decoder = VideoDecoder::Open(video, d);
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  if (!decoder.ok()) return {};
  ClipWindower windower(d.target_fps, ClipOptions{});
  std::vector<Clip> clips;
  while (true) {
    auto f = (*decoder)->Next();
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok() || !*f || (*f)->pts_sec > max_seconds) break;
    windower.Add(*f, &clips);
  }
  windower.Finish(&clips);
  std::vector<std::vector<float>> rows;
  for (const Clip& c : clips) {
    std::vector<float> v(e->dim());
    Status s = e->Embed(c, v.data());
    EXPECT_TRUE(s.ok()) << s.ToString();
    rows.push_back(v);
  }
  return rows;
}

double Norm(const std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  return std::sqrt(n);
}

TEST(LearnedEmbeddersTest, MissingModelsAreAClearError) {
  EmbedderConfig c;
  c.models_dir = "/nonexistent/models";
  for (const char* name : {"pose-v1", "appearance-v1"}) {
    auto e = MakeEmbedder(name, c);
    ASSERT_FALSE(e.ok()) << name;
    EXPECT_EQ(e.status().code(), Status::Code::kNotFound) << e.status().ToString();
    EXPECT_NE(e.status().message().find(name), std::string::npos) << e.status().ToString();
    EXPECT_NE(e.status().message().find("install-models"), std::string::npos) << e.status().ToString();
  }
}

TEST(LearnedEmbeddersTest, EmbeddingsAreNormalisedAndDeterministic) {
  REQUIRE_MODELS();
  testing::TempDir dir;
  const std::string video = dir.file("v.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x240:rate=12", 4);
  for (const char* name : {"pose-v1", "appearance-v1"}) {
    auto a = MakeEmbedder(name, Config());
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ((*a)->name(), name);
    auto rows = EmbedAll(video, a->get());
    ASSERT_GE(rows.size(), 3u);
    for (const auto& r : rows) {
      ASSERT_EQ(static_cast<int>(r.size()), (*a)->dim());
      EXPECT_NEAR(Norm(r), 1.0, 1e-4) << name;
    }
    auto b = MakeEmbedder(name, Config());
    ASSERT_TRUE(b.ok());
    auto again = EmbedAll(video, b->get());
    ASSERT_EQ(again.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t k = 0; k < rows[i].size(); ++k) ASSERT_EQ(rows[i][k], again[i][k]) << name << " clip " << i;
    }
  }
}

// appearance-v1 runs a clip's new frames side by side on copies of its
// network: the vectors are those of one frame at a time, bit for bit, and a
// frame shared by overlapping clips still runs once.
TEST(LearnedEmbeddersTest, AppearanceFramesInParallelGiveTheVectorsOfOneAtATime) {
  REQUIRE_MODELS();
  testing::TempDir dir;
  const std::string video = dir.file("v.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x240:rate=12", 5);
  std::vector<std::vector<float>> one_at_a_time;
  int64_t frames_one_at_a_time = 0;
  for (int parallel : {1, 2, 3}) {
    EmbedderConfig c = Config();
    c.parallel_frames = parallel;
    auto e = MakeEmbedder("appearance-v1", c);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto* appearance = dynamic_cast<AppearanceEmbedder*>(e->get());
    ASSERT_NE(appearance, nullptr);
    EXPECT_EQ(appearance->parallel_frames(), parallel);
    auto rows = EmbedAll(video, appearance);
    ASSERT_GE(rows.size(), 5u);
    if (parallel == 1) {
      one_at_a_time = rows;
      frames_one_at_a_time = appearance->frames_run();
      EXPECT_GE(frames_one_at_a_time, 19) << "5 s at 4 fps";
      EXPECT_LE(frames_one_at_a_time, 21) << "each frame once, though clips overlap";
      continue;
    }
    EXPECT_EQ(appearance->frames_run(), frames_one_at_a_time);
    ASSERT_EQ(rows.size(), one_at_a_time.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i], one_at_a_time[i]) << parallel << " frames at once, clip " << i;
    }
  }
  EmbedderConfig bad = Config();
  bad.parallel_frames = -1;
  EXPECT_EQ(MakeEmbedder("appearance-v1", bad).status().code(), Status::Code::kInvalidArgument);
}

// Another appearance backbone is part of the name, so an embedding file
// says which one made it and the registry can make it again.
TEST(LearnedEmbeddersTest, AppearanceBackboneIsNamedAndMadeAgainByName) {
  REQUIRE_MODELS();
  EmbedderConfig c = Config();
  c.appearance_model = "centernet";
  auto e = MakeEmbedder("appearance-v1", c);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "appearance-v1:centernet");
  EXPECT_EQ((*e)->dim(), 480);
  EXPECT_TRUE(IsKnownEmbedder("appearance-v1:centernet"));
  auto again = MakeEmbedder("appearance-v1:centernet", Config());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->name(), "appearance-v1:centernet");
  auto none = MakeEmbedder("appearance-v1:nosuch", Config());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  EXPECT_NE(none.status().message().find("mobilenet_v2_mid"), std::string::npos) << none.status().ToString();
  EXPECT_FALSE(IsKnownEmbedder("appearance-v1:../x"));
}

TEST(LearnedEmbeddersTest, DamagedModelFileStopsTheEmbedderWithItsName) {
  REQUIRE_MODELS();
  testing::TempDir dir;
  fs::copy(ModelsDir(), dir.path(), fs::copy_options::recursive);
  {
    std::fstream f(dir.file("handdetect.onnx"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.write("garbage!", 8);
  }
  EmbedderConfig c;
  c.models_dir = dir.path();
  auto e = MakeEmbedder("pose-v1", c);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kCorruption) << e.status().ToString();
  EXPECT_NE(e.status().message().find("handdetect"), std::string::npos) << e.status().ToString();
}

// MoveNet's maps decoded in C++: keypoints are finite, scores in [0, 1],
// and a letterboxed picture puts them at the same place whatever its margin.
TEST(LearnedEmbeddersTest, BodyPoseDecodesKeypointsInPictureCoordinates) {
  REQUIRE_MODELS();
  auto manifest = ModelManifest::Load(ModelsDir());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto body = BodyPose::Open((*manifest->Find("movenet-lightning"))->path);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  cv::Mat picture(180, 320, CV_8UC3);
  cv::randu(picture, 0, 255);
  cv::rectangle(picture, cv::Rect(140, 30, 40, 140), cv::Scalar(200, 150, 120), cv::FILLED);
  auto a = (*body)->Find(picture);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (int k = 0; k < BodyKeypoints::kCount; ++k) {
    EXPECT_TRUE(std::isfinite(a->points[k].x) && std::isfinite(a->points[k].y));
    EXPECT_GE(a->scores[k], 0.0f);
    EXPECT_LE(a->scores[k], 1.0f);
    EXPECT_GT(a->points[k].x, -160.0f);
    EXPECT_LT(a->points[k].x, 480.0f);
  }
  EXPECT_FALSE((*body)->Find(cv::Mat()).ok());
}

// Real hands: in the hand-washing takes both hands are in view nearly all
// the time, so the tracker must find hands in most frames.
TEST(LearnedEmbeddersTest, FindsHandsInRealHandWashingFootage) {
  REQUIRE_MODELS();
  const fs::path clips = fs::path(SOPILOT_SOURCE_DIR) / ".." / "shared" / "fixtures" / "handwash" / "clips";
  if (!fs::exists(clips)) GTEST_SKIP() << "no ../shared/fixtures/handwash (a clone without the shared fixtures)";
  auto manifest = ModelManifest::Load(ModelsDir());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto tracker = HandTracker::Open((*manifest->Find("handdetect"))->path, (*manifest->Find("handlandmark-full"))->path);
  ASSERT_TRUE(tracker.ok()) << tracker.status().ToString();
  int frames = 0, with_hands = 0, hands_total = 0;
  for (const char* name : {"HandWash_004_A_01_G01.mp4", "HandWash_008_A_05_G_01.mp4", "HandWash_010_A_11_G_02.mp4"}) {
    const fs::path video = clips / name;
    if (!fs::exists(video)) continue;
    DecodeOptions d;
    d.target_fps = 2;
    auto decoder = VideoDecoder::Open(video.string(), d);
    ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
    while (true) {
      auto f = (*decoder)->Next();
      ASSERT_TRUE(f.ok());
      if (!*f) break;
      auto hands = (*tracker)->Find((*f)->rgb);
      ASSERT_TRUE(hands.ok()) << hands.status().ToString();
      ++frames;
      if (!hands->empty()) ++with_hands;
      hands_total += static_cast<int>(hands->size());
      for (const HandLandmarks& h : *hands) {
        for (const cv::Point3f& p : h.points) {
          EXPECT_GT(p.x, -0.5f * (*f)->rgb.cols);
          EXPECT_LT(p.x, 1.5f * (*f)->rgb.cols);
        }
      }
    }
  }
  if (frames == 0) GTEST_SKIP() << "the hand-washing clips this test names are not there";
  EXPECT_GE(with_hands, frames * 7 / 10) << with_hands << " of " << frames << " frames with a hand";
  // Hands pressed together often read as one palm; still, about one hand a frame.
  EXPECT_GE(hands_total, frames * 3 / 4) << hands_total << " hands in " << frames << " frames";
}

}  // namespace
}  // namespace sopilot
