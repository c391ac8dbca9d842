#include "ingest/ingest.h"

#include <gtest/gtest.h>

#include <cmath>

#include "embed/heuristic_embedder.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

TEST(IngestTest, DefaultClipsOverlapAndCoverTheVideo) {
  testing::TempDir dir;
  std::string path = dir.file("a.mp4");
  testing::MakeVideo(path, "testsrc2=size=640x360:rate=30", 6.0);
  HeuristicEmbedder embedder;
  auto set = IngestVideo(path, IngestOptions{}, &embedder);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  // 6 s at 4 fps = 24 samples; 8-frame clips every 2 frames: starts 0..16.
  ASSERT_EQ(set->clips.size(), 9u);
  EXPECT_DOUBLE_EQ(set->clips.back().start_sec, 4.0);
  EXPECT_DOUBLE_EQ(set->clips.back().end_sec, 6.0);
  EXPECT_EQ(set->vectors.rows, 9);
  EXPECT_EQ(set->vectors.cols, 904);
  EXPECT_EQ(set->model, "heuristic-v1");
  EXPECT_EQ(set->source.width, 640);
  EXPECT_NEAR(set->source.duration_sec, 6.0, 1e-3);
  for (int i = 0; i < set->vectors.rows; ++i) {
    double n = 0;
    for (int j = 0; j < 904; ++j) n += double(set->vectors.at(i, j)) * set->vectors.at(i, j);
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
}

TEST(IngestTest, DifferentScenesGiveDifferentEmbeddings) {
  testing::TempDir dir;
  std::string path = dir.file("p.mp4");
  testing::MakeProcedureVideo(path, {{"testsrc2", 4}, {"mandelbrot", 4}});
  HeuristicEmbedder embedder;
  auto set = IngestVideo(path, IngestOptions{}, &embedder);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto cos = [&](int a, int b) {
    double d = 0;
    for (int j = 0; j < 904; ++j) d += double(set->vectors.at(a, j)) * set->vectors.at(b, j);
    return d;
  };
  int last = set->vectors.rows - 1;
  EXPECT_GT(cos(0, 1), cos(0, last));  // neighbours in one scene beat across scenes
  EXPECT_LT(cos(0, last), 0.95);
}

TEST(IngestTest, TooShortVideoIsAnError) {
  testing::TempDir dir;
  std::string path = dir.file("short.mp4");
  testing::MakeVideo(path, "testsrc2=size=320x180:rate=12", 0.5);
  HeuristicEmbedder embedder;
  auto set = IngestVideo(path, IngestOptions{}, &embedder);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("too short"), std::string::npos) << set.status().message();
}

TEST(IngestTest, ProgressIsReported) {
  testing::TempDir dir;
  std::string path = dir.file("a.mp4");
  testing::MakeVideo(path, "testsrc2=size=160x120:rate=10", 5.0);
  HeuristicEmbedder embedder;
  std::vector<double> seen;
  auto set = IngestVideo(path, IngestOptions{}, &embedder,
                         [&](double done, double total) {
                           seen.push_back(done);
                           EXPECT_NEAR(total, 5.0, 0.01);
                           return true;
                         });
  ASSERT_TRUE(set.ok());
  ASSERT_GE(seen.size(), 3u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST(IngestTest, ProgressCanCancel) {
  testing::TempDir dir;
  std::string path = dir.file("a.mp4");
  testing::MakeVideo(path, "testsrc2=size=160x120:rate=10", 5.0);
  HeuristicEmbedder embedder;
  int calls = 0;
  auto set = IngestVideo(path, IngestOptions{}, &embedder, [&](double, double) { return ++calls < 2; });
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(calls, 2);
}

// Decoding ahead on its own thread hands the embedder the same frames in the
// same order: the embeddings are the same, bit for bit, as decoding on the
// caller's thread, whatever the depth.
TEST(IngestTest, DecodingAheadGivesTheSameEmbeddingsAsDecodingInTurn) {
  testing::TempDir dir;
  std::string path = dir.file("a.mp4");
  testing::MakeVideo(path, "testsrc2=size=320x180:rate=25", 8.0);
  auto ingest = [&](int ahead) {
    HeuristicEmbedder embedder;
    IngestOptions options;
    options.decode_ahead_frames = ahead;
    return IngestVideo(path, options, &embedder);
  };
  auto in_turn = ingest(0);
  ASSERT_TRUE(in_turn.ok()) << in_turn.status().ToString();
  ASSERT_EQ(in_turn->clips.size(), 13u);
  for (int ahead : {1, IngestOptions{}.decode_ahead_frames, 64}) {
    auto set = ingest(ahead);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    ASSERT_EQ(set->clips.size(), in_turn->clips.size()) << "ahead " << ahead;
    for (size_t k = 0; k < set->clips.size(); ++k) {
      EXPECT_EQ(set->clips[k].start_sec, in_turn->clips[k].start_sec);
    }
    EXPECT_EQ(set->vectors.data, in_turn->vectors.data) << "ahead " << ahead;
  }
  HeuristicEmbedder embedder;
  IngestOptions bad;
  bad.decode_ahead_frames = -1;
  EXPECT_EQ(IngestVideo(path, bad, &embedder).status().code(), Status::Code::kInvalidArgument);
  bad.decode_ahead_frames = 65;
  EXPECT_EQ(IngestVideo(path, bad, &embedder).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sopilot
